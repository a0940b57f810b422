package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneDirectoryOneVM: ~/work/api and ~/oss/api share a base name but
// never a VM. The directory that took the bare name keeps it, the other gets
// the path hash; stopping or destroying one leaves the other alone, and
// neither can name the other's VM.
func TestOneDirectoryOneVM(t *testing.T) {
	e := newEnv(t)
	work, oss := e.project("work/api", ""), e.project("oss/api", "")

	e.ok(work, "up")
	r := e.ok(oss, "up")
	sw, so := e.status(work), e.status(oss)
	if sw.VM != "api-dev" || sw.Dir != work {
		t.Fatalf("status in %s = %+v, want the bare name api-dev", work, sw)
	}
	if so.VM == sw.VM || !strings.HasPrefix(so.VM, "api-") || !strings.HasSuffix(so.VM, "-dev") || so.Dir != oss {
		t.Fatalf("status in %s = %+v, want a VM of its own (api-<hash>-dev); up said %q", oss, so, r.Stderr)
	}
	if sw.State != "Running" || so.State != "Running" {
		t.Fatalf("states = %s, %s; want both Running", sw.State, so.State)
	}
	if n, m := e.creates("api-dev"), e.creates(so.VM); n != 1 || m != 1 {
		t.Errorf("creates = %d, %d; want one VM each (calls: %q)", n, m, e.Calls())
	}
	// The same names every time, from either directory.
	if s := e.status(oss); s.VM != so.VM {
		t.Errorf("second status in %s says %s, first %s", oss, s.VM, so.VM)
	}

	// Stopping one leaves the other running.
	e.ok(oss, "stop")
	if s := e.status(work); s.State != "Running" {
		t.Errorf("stop in %s stopped %s's VM: %+v", oss, work, s)
	}
	if s := e.status(oss); s.State != "Stopped" {
		t.Errorf("after stop in %s: %+v", oss, s)
	}

	// The other's VM by name: refused, naming its directory, for name:
	// and --name alike, before anything reaches limactl.
	before := len(e.Calls())
	for _, args := range [][]string{{"--name", "api", "stop"}, {"--name", "api", "destroy", "--yes"}} {
		r := e.run(oss, args...)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "belongs to "+work) {
			t.Errorf("sysvm %s in %s: %s; want a refusal naming %s", strings.Join(args, " "), oss, r, work)
		}
	}
	os.WriteFile(filepath.Join(oss, "sysvm.yaml"), []byte("name: api\n"), 0o644)
	for _, args := range [][]string{{"allow"}, {"stop"}, {"up", "--recreate", "--yes"}, {"status"}} {
		r := e.run(oss, args...)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "belongs to "+work) || !strings.Contains(r.Stderr, "hint:") {
			t.Errorf("sysvm %s with name: api in %s: %s; want a refusal naming %s, with a hint", strings.Join(args, " "), oss, r, work)
		}
	}
	for _, c := range e.Calls()[before:] {
		if !strings.HasPrefix(c, "list") && !strings.HasPrefix(c, "--version") {
			t.Errorf("a refused command ran limactl %s", c)
		}
	}
	if s := e.status(work); s.State != "Running" {
		t.Errorf("after the refusals, %s's VM: %+v", work, s)
	}
	os.WriteFile(filepath.Join(oss, "sysvm.yaml"), nil, 0o644)
	e.allow(oss)

	// Destroying one leaves the other.
	e.ok(oss, "destroy", "--yes")
	if s := e.status(work); s.State != "Running" || s.VM != "api-dev" {
		t.Errorf("destroy in %s touched %s's VM: %+v", oss, work, s)
	}
	if s := e.status(oss); s.State != "NotCreated" || s.VM != so.VM {
		t.Errorf("after destroy in %s: %+v", oss, s)
	}
	// The other way round, with --forget: work's VM goes, oss keeps its
	// name even though the bare one is free now.
	e.ok(work, "destroy", "--yes", "--forget")
	if s := e.status(oss); s.VM != so.VM {
		t.Errorf("after %s forgot api-dev, %s became %s; want %s kept", work, oss, s.VM, so.VM)
	}
}
