package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/term"
)

// testLayout has a plain shell first, so the tests can type into it.
const testLayout = `layout {
    tab name="main" focus=true {
        pane
    }
    tab name="logs" {
        pane
    }
}
`

// modes runs a test through the broker process and with direct dials.
var modes = []struct {
	name string
	env  []string
}{
	{"broker", nil},
	{"direct", []string{"SYSVM_BROKER=0"}},
}

func (e *env) layoutProject(name string) string {
	e.t.Helper()
	dir := e.project(name, "")
	os.MkdirAll(filepath.Join(dir, ".sysvm"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, ".sysvm", "layout.kdl"), []byte(testLayout), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.allow(dir)
	return dir
}

// attach starts `sysvm attach` in a real terminal and waits until the
// session's shell answers.
func (e *env) attach(dir string, extraEnv []string, args ...string) *term.Term {
	e.t.Helper()
	c := e.cmd(dir, append([]string{"attach"}, args...)...)
	c.Env = append(c.Env, extraEnv...)
	tm := term.Start(e.t, c)
	answer(e.t, tm, "echo ready-$((40+2))", "ready-42", 30*time.Second)
	return tm
}

// answer types cmd until want appears (the shell may not be ready at once).
func answer(t testing.TB, tm *term.Term, cmd, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mark := tm.Mark()
		tm.Line(cmd)
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(30 * time.Millisecond) {
			if out := tm.Output(); strings.Contains(out[mark:], want) {
				return out[mark:]
			}
			if tm.Exited() {
				t.Fatalf("sysvm exited before %q appeared; screen:\n%s", want, tm.Output())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q after typing %q; screen:\n%s", want, cmd, tm.Output())
		}
	}
}

// detach presses Zellij 0.45's detach key, Ctrl-o d, and returns sysvm's exit code.
func detach(t testing.TB, tm *term.Term) int {
	t.Helper()
	tm.Write("\x0fd")
	return tm.ExitCode(20 * time.Second)
}

func pidAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func readPID(t *testing.T, path string) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

func TestAttach(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			dir := e.layoutProject("app")

			// Attach creates the session with the project's layout.
			tm := e.attach(dir, nil)
			out := answer(t, tm, `echo "vm=$SYSINIT_IN_VM z=$ZELLIJ s=$ZELLIJ_SESSION_NAME p=$PROJECT_NAME pwd=$(pwd)"`, "pwd="+dir, 10*time.Second)
			if !strings.Contains(out, "vm=1 z=0 s=app p=app pwd="+dir) {
				t.Errorf("session environment: %q", out)
			}
			layoutUsed, _ := os.ReadFile(filepath.Join(e.GuestDir("app-dev"), "sessions", "app", "layout"))
			if staged, err := os.ReadFile(strings.TrimSpace(string(layoutUsed))); err != nil || string(staged) != testLayout {
				t.Errorf("session not created with the project's layout (%q): %v", layoutUsed, err)
			}
			windows := e.GuestTmux("app-dev", "list-windows", "-a", "-F", "#{window_name}")
			if !strings.Contains(windows.Stdout, "main") || !strings.Contains(windows.Stdout, "logs") {
				t.Errorf("layout tabs missing: %s", windows)
			}
			// A process started in the session...
			pidFile := filepath.Join(dir, "bg.pid")
			answer(t, tm, "sleep 100000 & echo $! > bg.pid; echo started", "started", 10*time.Second)
			pid := readPID(t, pidFile)
			// ...survives a detach, which returns with exit 0.
			if code := detach(t, tm); code != 0 {
				t.Fatalf("detach: exit %d", code)
			}
			if !strings.Contains(tm.Output(), "Session detached") {
				t.Errorf("no detach message")
			}
			if !pidAlive(pid) {
				t.Fatal("the session's process died on detach")
			}
			// Attach again: the same session.
			tm = e.attach(dir, nil)
			answer(t, tm, "jobs -l | grep -c 'sleep 100000' | sed 's/^/jobs=/'", "jobs=1", 10*time.Second)
			// The window size reaches the remote side, and a resize too.
			// (The stand-in's tmux keeps one row for its status line, as
			// Zellij keeps rows for its bars.)
			answer(t, tm, "echo size-$(stty size | tr ' ' x)", "size-39x120", 10*time.Second)
			tm.Resize(30, 100)
			answer(t, tm, "echo size-$(stty size | tr ' ' x)", "size-29x100", 10*time.Second)
			detach(t, tm)

			r := e.ok(dir, "sessions")
			if !strings.Contains(r.Stdout, "app\trunning") {
				t.Errorf("sessions: %s", r)
			}
			if s := e.status(dir); s.SessionState != "running" {
				t.Errorf("status session state = %q", s.SessionState)
			}
			syscall.Kill(pid, syscall.SIGKILL)
		})
	}
}

func TestAttachReconnects(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			dir := e.layoutProject("net")
			tm := e.attach(dir, nil)
			answer(t, tm, "sleep 100000 & echo $! > bg.pid; echo started", "started", 10*time.Second)
			pid := readPID(t, filepath.Join(dir, "bg.pid"))
			const drops = 20
			for i := 1; i <= drops; i++ {
				mark := tm.Mark()
				if n, err := e.DropConnections("net-dev"); err != nil || n == 0 {
					t.Fatalf("drop %d: killed %d processes: %v", i, n, err)
				}
				tm.WaitAfter(mark, `connection to net-dev lost; reconnecting`, 20*time.Second)
				answer(t, tm, fmt.Sprintf("echo back-%d-$(cat bg.pid)", i), fmt.Sprintf("back-%d-%d", i, pid), 20*time.Second)
				if !pidAlive(pid) {
					t.Fatalf("the session's process died at drop %d", i)
				}
			}
			report(t, "reconnects", drops)
			if code := detach(t, tm); code != 0 {
				t.Errorf("detach after %d reconnects: exit %d", drops, code)
			}
			syscall.Kill(pid, syscall.SIGKILL)
		})
	}
}

func TestAttachRestartsStoppedVM(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("stopme")
	tm := e.attach(dir, nil)
	port1 := e.status(dir).SSHPort
	mark := tm.Mark()
	e.MustLimactl("stop", "stopme-dev")
	tm.WaitAfter(mark, `reconnecting`, 20*time.Second)
	answer(t, tm, "echo restarted-$((1+1))", "restarted-2", 60*time.Second)
	report(t, "faults_survived", 1)
	if s := e.status(dir); s.State != "Running" || s.SSHPort == port1 {
		t.Errorf("after the restart: %+v (old port %d)", s, port1)
	}
	detach(t, tm)
}

func TestAttachGuards(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("guard")
	for _, tt := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"SYSINIT_IN_VM=1"}, nil, "already inside a sysvm VM"},
		{[]string{"ZELLIJ=0"}, nil, "inside a local Zellij session"},
	} {
		c := e.cmd(dir, append([]string{"attach"}, tt.args...)...)
		c.Env = append(c.Env, tt.env...)
		r := runCmd(c)
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, tt.want) || !strings.Contains(r.Stderr, "hint:") {
			t.Errorf("%v: %s", tt.env, r)
		}
	}
	if e.creates("guard-dev") != 0 {
		t.Error("a refused attach created the VM")
	}
	// --force nests inside a local Zellij on purpose.
	tm := e.attach(dir, []string{"ZELLIJ=0"}, "--force")
	// Inside the VM, sysvm refuses to nest.
	out := answer(t, tm, e.sysvm+" attach; echo rc=$?", "rc=1", 10*time.Second)
	if !strings.Contains(out, "already inside a sysvm VM") {
		t.Errorf("sysvm inside the VM: %q", out)
	}
	detach(t, tm)
	// No terminal: attach says what to use instead.
	r := e.run(dir, "attach")
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "needs a terminal") {
		t.Errorf("attach without a terminal: %s", r)
	}
}

// An image that prints no host key fingerprints on its console: the key
// is trusted on first use, and a changed one refused until forgotten.
func TestHostKeyChangeRefused(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			e.Setenv("FAKELIMA_NO_CONSOLE_KEYS=1")
			dir := e.project("keys", "")
			if r := e.ok(dir, "up"); !strings.Contains(r.Stderr, "keys-dev printed none: sysvm trusts the host key of the first connection") {
				t.Errorf("up does not say it waited for fingerprints in vain:\n%s", r.Stderr)
			}
			if r := e.ok(dir, "status"); !strings.Contains(r.Stdout, "trusted on first use") {
				t.Errorf("status does not say the key is trusted on first use:\n%s", r.Stdout)
			}
			e.ok(dir, "shell", "--", "true") // pins the key
			// The VM comes back with another host key (not recreated by sysvm).
			e.MustLimactl("stop", "keys-dev")
			os.Remove(filepath.Join(e.InstanceDir("keys-dev"), "fake-hostkey"))
			os.Remove(filepath.Join(e.InstanceDir("keys-dev"), "fake-hostkey.pub"))
			e.MustLimactl("start", "keys-dev")
			r := e.run(dir, "shell", "--", "true")
			if r.ExitCode == 0 || !strings.Contains(r.Stderr, "host key of VM keys-dev has changed") || !strings.Contains(r.Stderr, "sysvm forget-host-key keys") {
				t.Fatalf("a changed host key was not refused with the fix: %s", r)
			}
			e.ok(dir, "forget-host-key")
			e.ok(dir, "shell", "--", "true")
			// Recreating through sysvm resets the pin by itself.
			e.ok(dir, "destroy", "--yes")
			e.ok(dir, "up")
			e.ok(dir, "shell", "--", "true")
		})
	}
}

func TestShell(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			dir := filepath.Join(e.Root, "p", `it's a "proj" $x`)
			os.MkdirAll(dir, 0o755)
			// shell brings the VM up by itself.
			r := e.run(dir, "shell", "--", "sh", "-c", `printf '%s|' "$PWD" "$PROJECT_NAME" "$SYSINIT_IN_VM" "$1"; exit 7`, "sh", "arg with 'quotes' and $HOME")
			if r.ExitCode != 7 {
				t.Fatalf("remote exit status not passed through: %s", r)
			}
			s := e.status(dir)
			want := dir + "|" + s.Project + "|1|arg with 'quotes' and $HOME|"
			if r.Stdout != want {
				t.Errorf("stdout = %q, want %q", r.Stdout, want)
			}
			// stdin reaches the remote command.
			c := e.cmd(dir, "shell", "--", "wc", "-c")
			c.Stdin = strings.NewReader(strings.Repeat("x", 100000))
			if r := runCmd(c); strings.TrimSpace(r.Stdout) != "100000" {
				t.Errorf("stdin: %s", r)
			}
			// Only the named variables reach the VM.
			c = e.cmd(dir, "shell", "--", "env")
			c.Env = append(c.Env, "SECRET_TOKEN=hunter2", "ZELLIJ_SESSION_NAME=local")
			if r := runCmd(c); strings.Contains(r.Stdout, "hunter2") || strings.Contains(r.Stdout, "ZELLIJ_SESSION_NAME=local") {
				t.Errorf("local variables leaked into the VM:\n%s", r.Stdout)
			}
		})
	}
}

func TestZellijMissing(t *testing.T) {
	e := newEnv(t)
	// A stock guest (no zellij) and a project that forbids installing one.
	dir := e.project("nozellij", "zellij:\n  install: false\n")
	os.MkdirAll(filepath.Join(dir, ".sysvm"), 0o755)
	os.WriteFile(filepath.Join(dir, ".sysvm", "layout.kdl"), []byte(testLayout), 0o644)
	e.allow(dir)
	c := e.cmd(dir, "attach")
	tm := term.Start(t, c)
	if code := tm.ExitCode(60 * time.Second); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	out := tm.Output()
	if !strings.Contains(out, "zellij is not installed in the VM nozellij-dev") || !strings.Contains(out, "sysvm shell") {
		t.Errorf("no clear error with the way out:\n%s", out)
	}
	if r := e.ok(dir, "shell", "--", "echo", "plain-shell-works"); !strings.Contains(r.Stdout, "plain-shell-works") {
		t.Errorf("shell: %s", r)
	}
}

func TestAttachFresh(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("fresh")
	tm := e.attach(dir, nil)
	detach(t, tm)
	zellij := e.zellij(dir)
	if r := e.SSH("fresh-dev", zellij, "kill-session", "fresh"); r.ExitCode != 0 {
		t.Fatalf("kill-session: %s", r)
	}
	origin := filepath.Join(e.GuestDir("fresh-dev"), "sessions", "fresh", "origin")
	tm = e.attach(dir, nil)
	detach(t, tm)
	if b, _ := os.ReadFile(origin); strings.TrimSpace(string(b)) != "resurrected" {
		t.Errorf("plain attach of a dead session: origin %q, want resurrected", b)
	}
	e.SSH("fresh-dev", zellij, "kill-session", "fresh")
	tm = e.attach(dir, nil, "--fresh")
	detach(t, tm)
	if b, _ := os.ReadFile(origin); strings.TrimSpace(string(b)) != "created" {
		t.Errorf("attach --fresh: origin %q, want created", b)
	}
}

// TestAttachDefaultLayout: a project without a layout of its own gets the
// built-in one (an editor tab and a shell tab, in the project directory).
func TestAttachDefaultLayout(t *testing.T) {
	e := newEnv(t)
	dir := e.project("deflt", "")
	tm := term.Start(t, e.cmd(dir, "attach"))
	var windows string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		windows = e.GuestTmux("deflt-dev", "list-windows", "-a", "-F", "#{window_name} #{pane_current_path}").Stdout
		if strings.Contains(windows, "shell") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(windows, "edit "+dir) || !strings.Contains(windows, "shell "+dir) {
		t.Errorf("windows = %q, want edit and shell tabs in %s", windows, dir)
	}
	// The stand-in records the layout it used once the session exists.
	var used []byte
	for deadline := time.Now().Add(10 * time.Second); len(used) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		used, _ = os.ReadFile(filepath.Join(e.GuestDir("deflt-dev"), "sessions", "deflt", "layout"))
	}
	staged, err := os.ReadFile(strings.TrimSpace(string(used)))
	if err != nil || !strings.Contains(string(staged), `tab name="edit"`) {
		t.Errorf("staged layout %q: %v\n%s", used, err, staged)
	}
	e.GuestTmux("deflt-dev", "detach-client", "-a")
	e.GuestTmux("deflt-dev", "detach-client")
	if code := tm.ExitCode(20 * time.Second); code != 0 {
		t.Errorf("exit %d after detach", code)
	}
}
