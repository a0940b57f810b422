package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/lab"
)

// limaInstance is what the fake limactl lists of one VM.
func (e *env) limaInstance(vm string) (cpus int, memory int64) {
	e.t.Helper()
	r := e.MustLimactl("list", "--json", vm)
	var in struct {
		CPUs   int   `json:"cpus"`
		Memory int64 `json:"memory"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.Stdout)), &in); err != nil {
		e.t.Fatalf("limactl list --json %s: %v\n%s", vm, err, r.Stdout)
	}
	return in.CPUs, in.Memory
}

// TestSettingsTakeEffect: a change to sysvm.yaml reaches the config sysvm
// generated; `up` on the existing VM says what changed and, since Lima can
// apply cpus, memory and ports to a stopped instance, stops it, applies
// them with limactl edit and starts it again, a file written in the guest
// still there; `up --recreate` still recreates the VM; and neither the
// project's files nor a config the user edited are ever touched.
func TestSettingsTakeEffect(t *testing.T) {
	e := newEnv(t)
	dir := e.project("settings", "cpus: 2\nmemory: 2GiB\n")
	mine := filepath.Join(dir, "work.txt")
	os.WriteFile(mine, []byte("precious"), 0o644)
	e.ok(dir, "up")
	if cpus, mem := e.limaInstance("settings-dev"); cpus != 2 || mem != 2<<30 {
		t.Fatalf("created with cpus %d memory %d", cpus, mem)
	}

	os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte("cpus: 3\nmemory: 3GiB\nports: [3123]\n"), 0o644)
	e.allow(dir)
	if out := e.ok(dir, "config").Stdout; !strings.Contains(out, "cpus: 3") || !strings.Contains(out, "memory: 3GiB") {
		t.Fatalf("sysvm config does not show the new settings:\n%s", out)
	}
	e.ok(dir, "shell", "--", "sh", "-c", "echo kept >$HOME/guest-file")
	// --no-apply (the shell hook's background up) only reports them.
	r := e.ok(dir, "up", "--no-apply")
	if !strings.Contains(r.Stderr, "regenerated") {
		t.Errorf("up does not say it regenerated the config:\n%s", r.Stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ".lima", "config.yaml")); !strings.Contains(string(b), "cpus: 3") {
		t.Errorf("the unedited config was not regenerated:\n%s", b)
	}
	if cpus, _ := e.limaInstance("settings-dev"); cpus != 2 || !strings.Contains(r.Stderr, "to apply them: sysvm up  (stops and starts the VM") {
		t.Errorf("up --no-apply: cpus %d\n%s", cpus, r.Stderr)
	}
	r = e.ok(dir, "up")
	for _, want := range []string{"applying changed settings without recreating the VM", "cpus: 2 → 3", "memory: 2GiB → 3GiB", "portForwards changed", "stopping settings-dev"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("up on the running VM does not say %q:\n%s", want, r.Stderr)
		}
	}
	if cpus, mem := e.limaInstance("settings-dev"); cpus != 3 || mem != 3<<30 {
		t.Errorf("after up: cpus %d memory %d, want 3 and 3GiB", cpus, mem)
	}
	if n := e.creates("settings-dev"); n != 1 {
		t.Errorf("%d creates after applying the settings, want 1", n)
	}
	if r := e.ok(dir, "shell", "--", "sh", "-c", "cat $HOME/guest-file"); strings.TrimSpace(r.Stdout) != "kept" {
		t.Errorf("the guest's file after applying the settings: %s", r)
	}
	if s := e.status(dir); s.State != "Running" || len(s.Changed) != 0 {
		t.Errorf("after applying the settings: %+v", s)
	}

	// Without a terminal and without --yes nothing is deleted.
	if r := e.run(dir, "up", "--recreate"); r.ExitCode != 1 || !strings.Contains(r.Stderr, "--recreate --yes") {
		t.Fatalf("up --recreate without confirmation: %s", r)
	}
	if n := e.creates("settings-dev"); n != 1 {
		t.Fatalf("%d creates before the confirmed recreate, want 1", n)
	}
	e.ok(dir, "up", "--recreate", "--yes")
	if n := e.creates("settings-dev"); n != 2 {
		t.Errorf("%d creates after up --recreate, want 2", n)
	}
	if cpus, mem := e.limaInstance("settings-dev"); cpus != 3 || mem != 3<<30 {
		t.Errorf("recreated with cpus %d memory %d, want 3 and 3GiB", cpus, mem)
	}
	if r := e.run(dir, "shell", "--", "sh", "-c", "cat $HOME/guest-file"); strings.Contains(r.Stdout, "kept") {
		t.Errorf("the guest's file survived a recreate: %s", r)
	}
	if s := e.status(dir); s.State != "Running" || len(s.Changed) != 0 {
		t.Errorf("after the recreate: %+v", s)
	}
	if b, _ := os.ReadFile(mine); string(b) != "precious" {
		t.Errorf("the project's file changed: %q", b)
	}

	// An edited config is the user's: kept as it is, and said so.
	cfg := filepath.Join(dir, ".lima", "config.yaml")
	b, _ := os.ReadFile(cfg)
	edited := strings.Replace(string(b), "cpus: 3", "cpus: 1 # mine", 1)
	os.WriteFile(cfg, []byte(edited), 0o644)
	os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte("cpus: 4\n"), 0o644)
	e.allow(dir)
	r = e.ok(dir, "up")
	if !strings.Contains(r.Stderr, "using your edited") {
		t.Errorf("up does not say it uses the edited config:\n%s", r.Stderr)
	}
	if b, _ := os.ReadFile(cfg); string(b) != edited {
		t.Errorf("the edited config was overwritten:\n%s", b)
	}
	if s := e.status(dir); !s.ConfigEdited {
		t.Errorf("status does not call the config edited: %+v", s)
	}
}

// TestReconnectForALifetime: each loss has its own window, so drops spread
// over longer than the window all reconnect; a link that stays down for
// longer than the window gives up, with the hint.
func TestReconnectForALifetime(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			e.Setenv("SYSVM_RECONNECT_TIMEOUT=3s")
			dir := e.layoutProject("life")
			tm := e.attach(dir, nil)
			for i := 1; i <= 5; i++ {
				time.Sleep(3500 * time.Millisecond) // longer than the window
				mark := tm.Mark()
				if n, err := e.DropConnections("life-dev"); err != nil || n == 0 {
					t.Fatalf("drop %d: killed %d processes: %v", i, n, err)
				}
				tm.WaitAfter(mark, `connection to life-dev lost; reconnecting`, 20*time.Second)
				answer(t, tm, fmt.Sprintf("echo back-$((100+%d))", i), fmt.Sprintf("back-%d", 100+i), 20*time.Second)
			}
			// Now the VM stops answering (its sshd frozen, as on a dead
			// network): after the window sysvm gives up and says what to do.
			sshd, err := e.SSHDPid("life-dev")
			if err != nil {
				t.Fatal(err)
			}
			syscall.Kill(sshd, syscall.SIGSTOP)
			t.Cleanup(func() { syscall.Kill(sshd, syscall.SIGCONT) })
			mark := tm.Mark()
			e.DropConnections("life-dev")
			tm.WaitAfter(mark, `gave up reconnecting|unreachable`, 60*time.Second)
			if code := tm.ExitCode(30 * time.Second); code != 255 {
				t.Errorf("exit %d after giving up, want 255", code)
			}
			if out := tm.Output(); !strings.Contains(out, "sysvm: hint: sysvm status") {
				t.Errorf("no hint after giving up:\n%s", out)
			}
		})
	}
}

// TestShellInterruptedWithoutTerminal: Ctrl-C (SIGINT) during `sysvm shell`
// with no terminal exits 130, like an attach, not 1 with "context canceled".
func TestShellInterruptedWithoutTerminal(t *testing.T) {
	e := newEnv(t)
	dir := e.project("intr", "")
	e.ok(dir, "up")
	c := e.cmd(dir, "shell", "--", "sh", "-c", "echo started; sleep 100")
	var out strings.Builder
	c.Stdout = &out
	var errOut strings.Builder
	c.Stderr = &errOut
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "started"); {
		if time.Now().After(deadline) {
			t.Fatalf("the remote command did not start: %q %q", out.String(), errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.Process.Signal(syscall.SIGINT)
	err := c.Wait()
	if code := c.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d (%v), want 130\n%s", code, err, errOut.String())
	}
	if strings.Contains(errOut.String(), "context canceled") {
		t.Errorf("stderr shows Go's context error:\n%s", errOut.String())
	}
}

// TestBrokerStop: `sysvm broker stop` ends the user's broker, by its own
// word, and a later shell starts a new one.
func TestBrokerStop(t *testing.T) {
	e := newEnv(t)
	dir := e.project("bstop", "")
	e.ok(dir, "shell", "--", "true")
	pid := lab.BrokerPIDAt(filepath.Join(e.RuntimeDir, "sysvm", "broker.sock"))
	if pid == 0 {
		t.Fatal("no broker answers after a shell")
	}
	r := e.ok(dir, "broker", "stop")
	if !strings.Contains(r.Stderr, "stopped the broker") {
		t.Errorf("broker stop says: %s", r)
	}
	for deadline := time.Now().Add(5 * time.Second); pidAlive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("broker %d still runs after broker stop", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := e.ok(dir, "broker", "stop"); !strings.Contains(r.Stderr, "no broker is running") {
		t.Errorf("second broker stop: %s", r)
	}
	if r := e.ok(dir, "shell", "--", "echo", "again"); !strings.Contains(r.Stdout, "again") {
		t.Errorf("shell after broker stop: %s", r)
	}
}
