package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A broker socket directory others can write to is not used: sysvm says
// so and dials the VM directly, and starts no broker there.
func TestBrokerSocketDirectoryNotTrusted(t *testing.T) {
	e := newEnv(t)
	dir := e.project("shared", "")
	e.ok(dir, "up")
	sockDir := filepath.Dir(e.BrokerSocket())
	os.MkdirAll(sockDir, 0o700)
	os.Chmod(sockDir, 0o777)
	r := e.run(dir, "shell", "--", "echo", "direct-ok")
	if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "direct-ok" {
		t.Fatalf("no direct fallback: %s", r)
	}
	if !strings.Contains(r.Stderr, "not talking to the broker socket") || !strings.Contains(r.Stderr, "has mode 0777, not 0700") ||
		!strings.Contains(r.Stderr, "dialing the VM directly") {
		t.Errorf("sysvm did not say why it dials directly:\n%s", r.Stderr)
	}
	if e.BrokerPID() != 0 {
		t.Error("a broker was started in a directory others can write to")
	}
}
