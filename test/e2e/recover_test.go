package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/procs"
	"github.com/sysvm/sysvm/test/term"
)

// sleeper starts an unrelated process (`sleep 1000`) that the test ends by
// its pid; it stands for whatever program reuses a VM's pid after a reboot.
func sleeper(t *testing.T) int {
	t.Helper()
	c := exec.Command("sleep", "1000")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	return c.Process.Pid
}

func writePIDFile(t *testing.T, path string, pid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCrashRecovery leaves an instance the way a host crash does and checks
// that sysvm starts it again by itself, saying what it did in one line,
// without harming the programs that now hold the VM's old pids.
func TestCrashRecovery(t *testing.T) {
	e := newEnv(t)

	t.Run("pids gone, dead sockets", func(t *testing.T) {
		dir := e.project("gone", "")
		e.ok(dir, "up")
		if err := e.Crash("gone-dev"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(e.InstanceDir("gone-dev"), "ha.sock")); err != nil {
			t.Fatalf("the crash left no ha.sock: %v", err)
		}
		r := e.ok(dir, "up")
		if n := strings.Count(r.Stderr, "was not shut down cleanly"); n != 1 || !strings.Contains(r.Stderr, "ha.sock") {
			t.Errorf("want one line saying what was repaired, naming ha.sock: %s", r)
		}
		if s := e.status(dir); s.State != "Running" {
			t.Errorf("state after recovery = %s", s.State)
		}
	})

	t.Run("pids reused by other programs", func(t *testing.T) {
		dir := e.layoutProject("reused")
		tm := e.attach(dir, nil)
		if code := detach(t, tm); code != 0 {
			t.Fatalf("detach: exit %d", code)
		}
		if err := e.Crash("reused-dev"); err != nil {
			t.Fatal(err)
		}
		inst := e.InstanceDir("reused-dev")
		ha, driver := sleeper(t), sleeper(t)
		writePIDFile(t, filepath.Join(inst, "ha.pid"), ha)
		writePIDFile(t, filepath.Join(inst, "qemu.pid"), driver)
		if r := e.Limactl("list", "--json", "reused-dev"); !strings.Contains(r.Stdout, `"status":"Broken"`) {
			t.Fatalf("Lima should see the reused pids as a Broken instance: %s", r)
		}

		c := e.cmd(dir, "attach")
		tm = term.Start(t, c)
		answer(t, tm, "echo ready-$((40+2))", "ready-42", 60*time.Second)
		out := tm.Output()
		if !strings.Contains(out, "reused-dev was not shut down cleanly: removed ha.pid") || !strings.Contains(out, "removed qemu.pid") {
			t.Errorf("want the repair said in one line; screen:\n%s", out)
		}
		got := answer(t, tm, `echo "in=$ZELLIJ_SESSION_NAME"`, "in=reused", 10*time.Second)
		if !strings.Contains(got, "in=reused") {
			t.Errorf("not in the project's session: %q", got)
		}
		detach(t, tm)
		for _, pid := range []int{ha, driver} {
			// procs.Alive: a killed child of this test stays a zombie until reaped.
			if !procs.Alive(pid) {
				t.Errorf("the unrelated process %d that held a pid file's pid was killed", pid)
			}
		}
	})
}
