package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/term"
)

// TestAllowStep: a fresh clone's sysvm.yaml asking for the SSH agent is
// not used until allowed; the refusal says what it asks for and how to
// allow; status names it instead of failing; a change after allowing is
// caught; attach on a terminal asks, and "no" boots nothing.
func TestAllowStep(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.Root, "p", "clone")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte("forwardAgent: true\n"), 0o644)

	for _, cmd := range [][]string{{"up"}, {"config"}, {"shell", "--", "true"}} {
		r := e.run(dir, cmd...)
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "sysvm.yaml not allowed yet") ||
			!strings.Contains(r.Stderr, "forwardAgent") || !strings.Contains(r.Stderr, "hint: read them, then: sysvm allow "+dir) {
			t.Errorf("sysvm %s on a file never allowed: %s", strings.Join(cmd, " "), r)
		}
	}
	if r := e.ok(dir, "status"); !strings.Contains(r.Stdout, "allowed") || !strings.Contains(r.Stdout, "sysvm.yaml (new)") {
		t.Errorf("status does not name the file not allowed:\n%s", r.Stdout)
	}

	c := e.cmd(dir, "attach")
	tm := term.Start(t, c)
	tm.Wait(`Allow them as they are now\? \[y/N\]`, 20*time.Second)
	tm.Line("n")
	if code := tm.ExitCode(20 * time.Second); code != 1 {
		t.Errorf("attach answered no: exit %d, want 1; screen:\n%s", code, tm.Output())
	}
	if n := e.creates("clone-dev"); n != 0 {
		t.Fatalf("%d VMs created from files never allowed", n)
	}

	r := e.ok(dir, "allow")
	if !strings.Contains(r.Stderr, "allowed sysvm.yaml") || !strings.Contains(r.Stderr, "forwardAgent") {
		t.Errorf("allow does not say what it allowed and what it asks for:\n%s", r.Stderr)
	}
	if out := e.ok(dir, "config").Stdout; !strings.Contains(out, "forwardAgent: true") {
		t.Errorf("the allowed file is not used:\n%s", out)
	}

	os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte("forwardAgent: true\nprovision: echo hi\n"), 0o644)
	r = e.run(dir, "config")
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "sysvm.yaml changed since you allowed it") || !strings.Contains(r.Stderr, "provision") {
		t.Errorf("a change after allowing is not caught: %s", r)
	}
}

// TestInitNeedsNoAllow: the first day just works: the files `sysvm init`
// writes are allowed, and a project with no sysvm.yaml needs nothing.
func TestInitNeedsNoAllow(t *testing.T) {
	e := newEnv(t)
	custom := filepath.Join(e.Root, "p", "custom")
	e.ok(e.Root, "init", "--template", "vm-custom", custom)
	e.ok(custom, "config")
	plain := filepath.Join(e.Root, "p", "plain")
	e.ok(e.Root, "init", plain)
	e.ok(plain, "up")
}

// TestLayoutOutsideRefused: a committed layout that links out of the
// project is refused with a clear error, and nothing boots.
func TestLayoutOutsideRefused(t *testing.T) {
	e := newEnv(t)
	for name, target := range map[string]string{"environ": "/proc/self/environ", "zero": "/dev/zero"} {
		dir := e.project("lay"+name, "")
		os.MkdirAll(filepath.Join(dir, ".sysvm"), 0o755)
		os.Symlink(target, filepath.Join(dir, ".sysvm", "layout.kdl"))
		for _, cmd := range []string{"allow", "up"} {
			r := e.run(dir, cmd)
			if r.ExitCode != 1 || !strings.Contains(r.Stderr, "layout.kdl is a symbolic link") || !strings.Contains(r.Stderr, "hint:") {
				t.Errorf("%s with a layout linked to %s: %s", cmd, target, r)
			}
		}
		if n := e.creates("lay" + name + "-dev"); n != 0 {
			t.Errorf("%d VMs created with a layout linked to %s", n, target)
		}
	}
}

// TestDiscoveryTrust: markers another user can write are never used: one
// in a world-writable sticky directory, one owned by another user (nobody;
// needs root), one above $HOME; the user's own nested projects still work.
func TestDiscoveryTrust(t *testing.T) {
	e := newEnv(t)
	pub := filepath.Join(e.Root, "pub")
	os.Mkdir(pub, 0o755)
	os.Chmod(pub, 0o777|os.ModeSticky)
	os.WriteFile(filepath.Join(pub, "sysvm.yaml"), []byte("forwardAgent: true\n"), 0o644)
	mine := filepath.Join(pub, "try")
	os.Mkdir(mine, 0o755)
	if s := e.status(mine); s.Dir != mine {
		t.Errorf("a sysvm.yaml in a world-writable directory was used: project %s", s.Dir)
	}
	if r := e.run(pub, "config"); r.ExitCode != 1 || !strings.Contains(r.Stderr, "is writable by every user") {
		t.Errorf("a world-writable directory was accepted as a project: %s", r)
	}

	// Above $HOME: the lab's HOME is Root/home, and Root is the user's.
	os.WriteFile(filepath.Join(e.Root, "sysvm.yaml"), []byte("forwardAgent: true\n"), 0o644)
	inHome := filepath.Join(e.Home, "code", "x")
	os.MkdirAll(inHome, 0o755)
	if s := e.status(inHome); s.Dir != inHome {
		t.Errorf("discovery went above $HOME: project %s", s.Dir)
	}
	os.Remove(filepath.Join(e.Root, "sysvm.yaml"))

	// Nested projects of the user's own.
	outer := e.project("outer", "")
	inner := filepath.Join(outer, "inner")
	os.MkdirAll(filepath.Join(inner, "src"), 0o755)
	os.WriteFile(filepath.Join(inner, ".envrc"), []byte("use sysvm\n"), 0o644)
	if s := e.status(filepath.Join(inner, "src")); s.Dir != inner {
		t.Errorf("nested project: got %s, want %s", s.Dir, inner)
	}
	if s := e.status(filepath.Join(outer)); s.Dir != outer {
		t.Errorf("outer project: got %s, want %s", s.Dir, outer)
	}

	if os.Getuid() != 0 {
		t.Skip("a marker owned by another user needs root to chown it to nobody")
	}
	foreign := filepath.Join(e.Root, "p", "foreign")
	os.MkdirAll(filepath.Join(foreign, "sub"), 0o755)
	os.WriteFile(filepath.Join(foreign, "sysvm.yaml"), []byte("forwardAgent: true\n"), 0o644)
	if err := os.Chown(filepath.Join(foreign, "sysvm.yaml"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	r := e.ok(filepath.Join(foreign, "sub"), "config")
	if strings.Contains(r.Stdout, "forwardAgent: true") || !strings.Contains(r.Stderr, "note: ignoring "+filepath.Join(foreign, "sysvm.yaml")+": it is owned by user nobody") {
		t.Errorf("a sysvm.yaml of another user was used or not noted: %s", r)
	}
}
