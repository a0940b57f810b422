package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pin returns the host key sysvm pinned for vm; "" when none.
func (e *env) pin(vm string) string {
	b, _ := os.ReadFile(filepath.Join(e.StateHome, "sysvm", "hostkeys", vm))
	key, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return key
}

// hostKey returns the public key the fake guest's sshd presents.
func (e *env) hostKey(vm string) string {
	b, _ := os.ReadFile(filepath.Join(e.InstanceDir(vm), "fake-hostkey.pub"))
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return ""
	}
	return f[0] + " " + f[1]
}

// The guest prints its host key fingerprints on its console at each boot:
// a restart outside sysvm with a new key needs no forget-host-key, and a
// key the console did not print is refused and pins nothing.
func TestHostKeysFromConsole(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			dir := e.project("console", "")
			const vm = "console-dev"
			e.ok(dir, "shell", "--", "true")
			if r := e.ok(dir, "status"); !strings.Contains(r.Stdout, "checked against the fingerprints on the VM's console") {
				t.Errorf("status does not say the key comes from the console:\n%s", r.Stdout)
			}
			first := e.pin(vm)
			if first == "" || first != e.hostKey(vm) {
				t.Fatalf("pin %q after the first shell, want the guest's key %q", first, e.hostKey(vm))
			}
			serial := filepath.Join(e.InstanceDir(vm), "serial.log")

			// Restarted outside sysvm: a new key, printed on the new boot's console.
			e.MustLimactl("stop", vm)
			os.Remove(filepath.Join(e.InstanceDir(vm), "fake-hostkey"))
			e.MustLimactl("start", vm)
			r := e.run(dir, "shell", "--", "echo", "in")
			if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "in" {
				t.Fatalf("a restart outside sysvm with its key on the console was refused: %s", r)
			}
			second := e.pin(vm)
			if second == first || second != e.hostKey(vm) {
				t.Fatalf("pin after the restart = %q; want the new key %q", second, e.hostKey(vm))
			}

			// Something else answers with another key while the console
			// shows the previous boot's: refused, and the pin stays.
			console, err := os.ReadFile(serial)
			if err != nil {
				t.Fatal(err)
			}
			e.MustLimactl("stop", vm)
			os.Remove(filepath.Join(e.InstanceDir(vm), "fake-hostkey"))
			e.MustLimactl("start", vm)
			if err := os.WriteFile(serial, console, 0o644); err != nil {
				t.Fatal(err)
			}
			r = e.run(dir, "shell", "--", "echo", "in")
			if r.ExitCode == 0 || strings.Contains(r.Stdout, "in") || !strings.Contains(r.Stderr, "not among the keys its console printed") {
				t.Fatalf("a key the console did not print was not refused: %s", r)
			}
			if strings.Contains(r.Stderr, "forget-host-key") {
				t.Errorf("the hint offers forget-host-key for a key the console contradicts: %s", r.Stderr)
			}
			if p := e.pin(vm); p != second {
				t.Errorf("the refused key changed the pin: %q, want %q", p, second)
			}
		})
	}
}
