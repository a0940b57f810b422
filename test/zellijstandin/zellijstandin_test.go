package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sysvm/sysvm/test/lab"
	"github.com/sysvm/sysvm/test/procs"
)

func TestMain(m *testing.M) { lab.Main(m) }

// standin runs the built zellij stand-in against a private state dir.
type standin struct {
	t   *testing.T
	bin string
	dir string // ZELLIJ_STANDIN_DIR
	env []string
}

func newStandin(t *testing.T) *standin {
	t.Helper()
	lab.Require(t, "tmux")
	bins := lab.BuildBinaries(t)
	dir, err := os.MkdirTemp("/tmp", "zs-")
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ZELLIJ") || strings.HasPrefix(k, "TMUX") || k == "TERM" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "ZELLIJ_STANDIN_DIR="+dir, "TERM=xterm-256color", "STANDIN_TEST_MARKER=from-client")
	s := &standin{t: t, bin: bins.Zellij, dir: dir, env: env}
	t.Cleanup(func() {
		_ = s.tmuxCmd("kill-server").Run()
		_ = os.RemoveAll(dir)
	})
	return s
}

func (s *standin) command(extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(append([]string{}, s.env...), extraEnv...)
	cmd.Dir = s.dir
	return cmd
}

// run runs the stand-in without a terminal.
func (s *standin) run(args ...string) lab.Result {
	return lab.RunCmd(s.command(nil, args...))
}

func (s *standin) tmuxCmd(args ...string) *exec.Cmd {
	cmd := exec.Command("tmux", append([]string{"-S", filepath.Join(s.dir, "tmux.sock")}, args...)...)
	cmd.Env = s.env
	return cmd
}

// tmux runs a tmux command against the stand-in's server and returns stdout.
func (s *standin) tmux(args ...string) string {
	s.t.Helper()
	out, err := s.tmuxCmd(args...).Output()
	if err != nil {
		s.t.Fatalf("tmux %v: %v", args, err)
	}
	return string(out)
}

func (s *standin) mustRun(args ...string) lab.Result {
	s.t.Helper()
	res := s.run(args...)
	if res.ExitCode != 0 {
		s.t.Fatalf("zellij %v: %s", args, res)
	}
	return res
}

// ptyRun is a stand-in process on a pseudo terminal.
type ptyRun struct {
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (s *standin) startPTY(extraEnv []string, args ...string) *ptyRun {
	s.t.Helper()
	cmd := s.command(extraEnv, args...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		s.t.Fatalf("start %v on a pty: %v", args, err)
	}
	p := &ptyRun{cmd: cmd, tty: f, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				break
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		_ = f.Close()
	})
	return p
}

func (p *ptyRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// wait waits for the process to exit and returns its exit code.
func (p *ptyRun) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("process did not exit within %v; output so far:\n%q", d, p.output())
	}
	// Let the reader drain what the process wrote last.
	time.Sleep(100 * time.Millisecond)
	var exitErr *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exitErr):
		return exitErr.ExitCode()
	default:
		t.Fatalf("wait: %v", p.err)
		return -1
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitClient waits until a tmux client is attached to the session.
func waitClient(t *testing.T, s *standin, session string) {
	t.Helper()
	eventually(t, 10*time.Second, "a client attached to "+session, func() bool {
		out, err := s.tmuxCmd("list-clients", "-t", "="+session, "-F", "#{client_pid}").Output()
		return err == nil && strings.TrimSpace(string(out)) != ""
	})
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestNoSessionsAndUsageErrors(t *testing.T) {
	s := newStandin(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string // exact; "~" prefix means "starts with"
	}{
		{"version", []string{"--version"}, 0, "zellij 0.45.0\n", ""},
		{"ls none", []string{"ls"}, 1, "", "No active zellij sessions found.\n"},
		{"ls -n none", []string{"list-sessions", "-n"}, 1, "", "No active zellij sessions found.\n"},
		{"attach without tty", []string{"attach", "--create", "x"}, 1, "", "failed to open terminal:\nENOTTY: Not a typewriter\n"},
		{"attach missing layout", []string{"--layout", "/nonexistent/L.kdl", "attach", "-b", "x"}, 1, "",
			"IoError: No such file or directory (os error 2), File: /nonexistent/L.kdl\n"},
		{"layout after attach", []string{"attach", "--create", "x", "--layout", "L.kdl"}, 2, "",
			"~error: unexpected argument '--layout' found\n"},
		{"unknown ls flag", []string{"ls", "--bogus"}, 2, "", "~error: unexpected argument '--bogus' found"},
		{"unknown subcommand", []string{"frob"}, 2, "", "~error: unrecognized subcommand 'frob'"},
		{"kill missing", []string{"kill-session", "nope"}, 1, "No session named \"nope\" found.\n", ""},
		{"kill no name", []string{"kill-session"}, 1, "Please specify the session name to kill.\n", ""},
		{"kill-all none", []string{"kill-all-sessions", "--yes"}, 1, "", "No active zellij sessions found.\n"},
		{"delete missing", []string{"delete-session", "nope"}, 2, "", "Session: \"nope\" not found.\n"},
		{"delete slash", []string{"delete-session", "a/b"}, 1, "", "Session name cannot contain '/'.\n"},
		{"create dotdot", []string{"attach", "-b", ".."}, 1, "", "Invalid session name: \"..\".\n"},
		{"delete-all none", []string{"delete-all-sessions", "-y"}, 0, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := s.run(tc.args...)
			if res.ExitCode != tc.wantCode || res.Stdout != tc.wantStdout {
				t.Errorf("zellij %v: want exit %d stdout %q; got %s", tc.args, tc.wantCode, tc.wantStdout, res)
			}
			if want, ok := strings.CutPrefix(tc.wantStderr, "~"); ok {
				if !strings.HasPrefix(res.Stderr, want) {
					t.Errorf("stderr %q does not start with %q", res.Stderr, want)
				}
			} else if res.Stderr != tc.wantStderr {
				t.Errorf("stderr = %q, want %q", res.Stderr, tc.wantStderr)
			}
		})
	}
	if res := s.run("ls"); res.ExitCode != 1 {
		t.Errorf("failed commands created a session: %s", res)
	}
}

func TestCreateDetachReattach(t *testing.T) {
	s := newStandin(t)
	proj := filepath.Join(s.dir, "proj")
	if err := os.MkdirAll(filepath.Join(proj, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	layout := filepath.Join(s.dir, "proj.kdl")
	pidFile := filepath.Join(s.dir, "pane.pid")
	envFile := filepath.Join(s.dir, "pane.env")
	script := fmt.Sprintf("env > %s.tmp && mv %s.tmp %s; echo $$ > %s; exec sleep 300", envFile, envFile, envFile, pidFile)
	kdl := fmt.Sprintf(`layout {
    cwd %q
    default_tab_template {
        pane size=1 borderless=true {
            plugin location="zellij:tab-bar"
        }
        children
    }
    tab name="edit" focus=true {
        pane command="sh" {
            args "-c" %s
        }
    }
    tab name="run" cwd="sub" {
        pane split_direction="vertical" {
            pane
            pane
        }
    }
}
`, proj, kdlQuote(script))
	if err := os.WriteFile(layout, []byte(kdl), 0o644); err != nil {
		t.Fatal(err)
	}

	p := s.startPTY(nil, "--layout", layout, "attach", "--create", "proj")
	eventually(t, 10*time.Second, "the pane command to start", func() bool { return fileExists(pidFile) && fileExists(envFile) })
	if got := s.tmux("list-windows", "-t", "=proj", "-F", "#{window_name}|#{pane_current_path}"); got !=
		"edit|"+proj+"\nrun|"+filepath.Join(proj, "sub")+"\n" {
		t.Errorf("windows = %q", got)
	}
	waitClient(t, s, "proj")
	// The attached client's size reaches the pane (minus tmux's status line).
	eventually(t, 5*time.Second, "a 29x100 pane (30x100 terminal minus the status line)", func() bool {
		return s.tmux("display-message", "-p", "-t", "=proj:", "#{pane_height}x#{pane_width}") == "29x100\n"
	})
	s.tmux("detach-client", "-s", "=proj")
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("attach exit code after detach = %d", code)
	}
	if out := p.output(); !strings.HasSuffix(strings.TrimRight(out, "\r\n"), "Session detached") {
		t.Errorf("attach output does not end with \"Session detached\": %q", out)
	}

	// The session and the process started in it survive the detach.
	pidBytes, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidBytes)))
	if !procs.Alive(pid) {
		t.Errorf("pane process %d died on detach", pid)
	}
	res := s.mustRun("ls", "-n")
	if !regexp.MustCompile(`^proj \[Created \d+s ago\] \n$`).MatchString(res.Stdout) {
		t.Errorf("ls -n = %q (want the trailing space)", res.Stdout)
	}
	if res := s.mustRun("ls"); !strings.HasPrefix(res.Stdout, "\x1b[32;1mproj\x1b[m [Created \x1b[35;1m") || !strings.HasSuffix(res.Stdout, " ago] \n") {
		t.Errorf("formatted ls = %q", res.Stdout)
	}

	env, _ := os.ReadFile(envFile)
	for _, want := range []string{"ZELLIJ=0", "ZELLIJ_SESSION_NAME=proj", "ZELLIJ_PANE_ID=0", "STANDIN_TEST_MARKER=from-client"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).Match(env) {
			t.Errorf("pane environment lacks %s:\n%s", want, env)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(s.dir, "sessions", "proj", "layout")); string(b) != layout+"\n" {
		t.Errorf("recorded layout = %q, want %q", b, layout)
	}

	// Reattach by unique prefix; a kill from outside ends the client.
	p2 := s.startPTY(nil, "attach", "pro")
	waitClient(t, s, "proj")
	if res := s.run("kill-session", "proj"); res.ExitCode != 0 || res.Stdout != "" || res.Stderr != "" {
		t.Errorf("kill-session: %s", res)
	}
	if code := p2.wait(t, 10*time.Second); code != 0 {
		t.Errorf("attach exit code after kill = %d", code)
	}
	if out := p2.output(); !strings.HasSuffix(strings.TrimRight(out, "\r\n"), "Bye from Zellij!") {
		t.Errorf("attach output does not end with \"Bye from Zellij!\": %q", out)
	}
	if procs.WaitGone(5*time.Second, pid); procs.Alive(pid) {
		t.Errorf("pane process %d survived kill-session", pid)
	}
}

func TestKillResurrectDelete(t *testing.T) {
	s := newStandin(t)
	writeLayout := func(name, tabs string) string {
		p := filepath.Join(s.dir, name+".kdl")
		if err := os.WriteFile(p, []byte("layout {\n"+tabs+"}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldLayout := writeLayout("old", `    tab name="one" { pane command="sleep" { args "300"; }; }
    tab name="two" { pane; }
`)
	newLayout := writeLayout("new", `    tab name="fresh" { pane; }
`)
	windows := func(name string) string {
		return strings.TrimSpace(s.tmux("list-windows", "-t", "="+name, "-F", "#{window_name}"))
	}

	s.mustRun("--layout", oldLayout, "attach", "--create-background", "res")
	if res := s.run("attach", "-b", "res"); res.ExitCode != 1 || res.Stderr != "Session already exists\n" {
		t.Errorf("attach -b of a live session: %s", res)
	}
	if res := s.run("kill-session", "res"); res.ExitCode != 0 || res.Stdout+res.Stderr != "" {
		t.Errorf("kill-session: %s", res)
	}
	if res := s.mustRun("ls", "-n"); !regexp.MustCompile(`^res \[Created \d+s ago\] \(EXITED - attach to resurrect\)\n$`).MatchString(res.Stdout) {
		t.Errorf("ls -n after kill = %q", res.Stdout)
	}
	if res := s.mustRun("ls"); !strings.Contains(res.Stdout, "(\x1b[31;1mEXITED\x1b[m - attach to resurrect)") {
		t.Errorf("formatted ls after kill = %q", res.Stdout)
	}
	if res := s.run("kill-session", "res"); res.ExitCode != 1 || res.Stdout != "No session named \"res\" found.\n" {
		t.Errorf("kill-session of a dead session: %s", res)
	}

	// attach -c resurrects with the OLD layout, ignoring --layout; command
	// panes wait for ENTER.
	p := s.startPTY(nil, "--layout", newLayout, "attach", "-c", "res")
	eventually(t, 10*time.Second, "the resurrected session", func() bool { return s.tmuxCmd("has-session", "-t", "=res").Run() == nil })
	if got := windows("res"); got != "one\ntwo" {
		t.Errorf("resurrected windows = %q, want the old layout's tabs", got)
	}
	eventually(t, 5*time.Second, "the held command pane", func() bool {
		return strings.Contains(s.tmux("capture-pane", "-p", "-t", "=res:0"), "<ENTER> to run")
	})
	waitClient(t, s, "res")
	s.tmux("detach-client", "-s", "=res")
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("attach exit code = %d", code)
	}
	if b, _ := os.ReadFile(filepath.Join(s.dir, "sessions", "res", "layout")); string(b) != oldLayout+"\n" {
		t.Errorf("recorded layout after resurrection = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(s.dir, "sessions", "res", "origin")); string(b) != "resurrected\n" {
		t.Errorf("origin = %q", b)
	}

	// delete-session, in order.
	s.mustRun("attach", "-b", "other")
	s.mustRun("kill-session", "other")
	steps := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"delete-session", "res"}, 1, "A session by the name \"res\" exists and is active, use --force to delete it.\n", ""},
		{[]string{"delete-session", "other"}, 0, "Session: \"other\" successfully deleted.\n", ""},
		{[]string{"delete-session", "other"}, 2, "", "Session: \"other\" not found.\n"},
		{[]string{"delete-session", "--force", "res"}, 0, "A session by the name \"res\" exists and is active, but will be force killed and deleted.\nSession: \"res\" successfully deleted.\n", ""},
		{[]string{"ls"}, 1, "", "No active zellij sessions found.\n"},
	}
	for _, st := range steps {
		res := s.run(st.args...)
		if res.ExitCode != st.wantCode || res.Stdout != st.wantStdout || res.Stderr != st.wantStderr {
			t.Errorf("zellij %v: want exit %d stdout %q stderr %q; got %s", st.args, st.wantCode, st.wantStdout, st.wantStderr, res)
		}
	}

	// After delete-session, attach -c uses the new layout again.
	s.mustRun("--layout", newLayout, "attach", "-b", "res")
	if got := windows("res"); got != "fresh" {
		t.Errorf("windows after delete + create = %q", got)
	}
}

func TestListOrderAndCurrent(t *testing.T) {
	s := newStandin(t)
	for _, n := range []string{"alpha", "beta", "my.proj"} {
		s.mustRun("attach", "-b", n)
	}
	s.mustRun("kill-session", "beta")
	res := s.mustRun("ls", "-n")
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^alpha \[Created \d+s ago\] $`),
		regexp.MustCompile(`^beta \[Created \d+s ago\] \(EXITED - attach to resurrect\)$`),
		regexp.MustCompile(`^my\.proj \[Created \d+s ago\] $`),
	}
	if len(lines) != len(want) {
		t.Fatalf("ls -n = %q", res.Stdout)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("ls -n line %d = %q, want %v", i, lines[i], re)
		}
	}
	// Same result without a UTF-8 locale (as in a plain SSH session, where
	// tmux mangles control characters in its output).
	if c := lab.RunCmd(s.command([]string{"LANG=C", "LC_ALL=C"}, "ls", "-n")); c.Stdout != res.Stdout {
		t.Errorf("ls -n with LC_ALL=C = %q, want %q", c.Stdout, res.Stdout)
	}
	if res := s.mustRun("ls", "-s", "-r"); res.Stdout != "my.proj\nbeta\nalpha\n" {
		t.Errorf("ls -s -r = %q", res.Stdout)
	}
	cur := lab.RunCmd(s.command([]string{"ZELLIJ_SESSION_NAME=my.proj"}, "ls", "-n"))
	if !strings.Contains(cur.Stdout, "\nmy.proj [Created 0s ago] (current)\n") && !regexp.MustCompile(`(?m)^my\.proj \[Created \d+s ago\] \(current\)$`).MatchString(cur.Stdout) {
		t.Errorf("ls -n inside my.proj = %q", cur.Stdout)
	}
}

func TestAttachResolution(t *testing.T) {
	s := newStandin(t)
	for _, n := range []string{"proj-a", "proj-b", "other"} {
		s.mustRun("attach", "-b", n)
	}
	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"ambiguous prefix", nil, []string{"attach", "proj"}, 1, "Ambiguous selection: multiple sessions names start with 'proj':"},
		{"no match", nil, []string{"attach", "nope"}, 1, "No session with the name 'nope' found!"},
		{"attach to self", []string{"ZELLIJ_SESSION_NAME=other"}, []string{"attach", "other"}, 101,
			`You are trying to attach to the current session ("other"). This is not supported.`},
		{"many sessions, no name", nil, []string{"attach"}, 0, "Please specify the session to attach to, either by using the full name or a unique prefix."},
		{"new session exists", nil, []string{"--session", "other"}, 1,
			`Session with name "other" already exists. Use attach command to connect to it or specify a different name.`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := s.startPTY(tc.env, tc.args...)
			code := p.wait(t, 10*time.Second)
			if code != tc.wantCode || !strings.Contains(p.output(), tc.wantOut) {
				t.Errorf("zellij %v: exit %d (want %d), output %q (want %q)", tc.args, code, tc.wantCode, p.output(), tc.wantOut)
			}
		})
	}
	// Unique prefix attaches.
	p := s.startPTY(nil, "attach", "oth")
	waitClient(t, s, "other")
	s.tmux("detach-client", "-s", "=other")
	if code := p.wait(t, 10*time.Second); code != 0 || !strings.Contains(p.output(), "Session detached") {
		t.Errorf("attach by prefix: exit %d output %q", code, p.output())
	}
}

func TestKillAllDeleteAll(t *testing.T) {
	s := newStandin(t)
	for _, n := range []string{"a", "b", "c"} {
		s.mustRun("attach", "-b", n)
	}
	s.mustRun("kill-session", "c")
	if res := s.run("kill-all-sessions"); res.ExitCode != 101 || res.Stdout != "WARNING: this action will kill all sessions.\n" {
		t.Errorf("kill-all-sessions without --yes and without a terminal: %s", res)
	}
	if res := s.run("kill-all-sessions", "-y"); res.ExitCode != 0 || res.Stdout+res.Stderr != "" {
		t.Errorf("kill-all-sessions -y: %s", res)
	}
	if res := s.mustRun("ls", "-n"); strings.Count(res.Stdout, "(EXITED - attach to resurrect)") != 3 {
		t.Errorf("ls -n after kill-all = %q", res.Stdout)
	}
	s.mustRun("attach", "-b", "a")
	res := s.run("delete-all-sessions", "--yes")
	if res.ExitCode != 0 || res.Stdout != "Session: \"b\" successfully deleted.\nSession: \"c\" successfully deleted.\n" {
		t.Errorf("delete-all-sessions: %s", res)
	}
	if res := s.run("delete-all-sessions", "--yes", "--force"); res.ExitCode != 0 || res.Stdout != "Session: \"a\" successfully deleted.\n" {
		t.Errorf("delete-all-sessions --force: %s", res)
	}
	if res := s.run("ls"); res.ExitCode != 1 {
		t.Errorf("ls after delete-all: %s", res)
	}
}

func TestSerializationDisabled(t *testing.T) {
	s := newStandin(t)
	s.mustRun("attach", "-b", "tmp", "options", "--session-serialization", "false")
	s.mustRun("kill-session", "tmp")
	if res := s.run("ls"); res.ExitCode != 1 {
		t.Errorf("an unserialized killed session is still listed: %s", res)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{45 * time.Second, "45s"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1h 2m 3s"},
		{26 * time.Hour, "1day 2h"},
		{3*24*time.Hour + 4*time.Minute, "3days 4m"},
		{40 * 24 * time.Hour, "1month 9days 13h 26m 24s"},
		{400 * 24 * time.Hour, "1year 1month 4days 7h 26m 24s"},
	}
	for _, tc := range tests {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestLayoutParsing(t *testing.T) {
	tests := []struct {
		name    string
		kdl     string
		want    []tabSpec
		wantErr bool
	}{
		{"sysvm-shaped layout with a tab template", `layout {
    cwd "/home/dev/src/myproj"
    default_tab_template {
        pane size=1 borderless=true {
            plugin location="zellij:tab-bar"
        }
        children
        pane size=2 borderless=true {
            plugin location="zellij:status-bar"
        }
    }
    tab name="edit" focus=true {
        pane
    }
    tab name="run" cwd="scripts" {
        pane split_direction="vertical" {
            pane
            pane
        }
    }
}`, []tabSpec{
			{Name: "edit", Cwd: "/home/dev/src/myproj", Focus: true},
			{Name: "run", Cwd: "/home/dev/src/myproj/scripts"},
		}, false},
		{"no tabs, command pane, comments", `// a comment
layout {
    /- pane command="ignored"
    pane size=1 { plugin location="tab-bar"; }
    pane command="htop" cwd="/var" /* inline */ {
        args "-d" r#"10"#
    }
}`, []tabSpec{{Name: "Tab #1", Cwd: "/var", Command: []string{"htop", "-d", "10"}}}, false},
		{"default tab names and relative cwd", `layout { cwd "rel"; tab; tab name="x"; }`, []tabSpec{
			{Name: "Tab #1", Cwd: "/base/rel"}, {Name: "x", Cwd: "/base/rel"},
		}, false},
		{"no layout root", `pane`, nil, true},
		{"unbalanced", `layout {`, nil, true},
		{"unterminated string", `layout { cwd "x }`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodes, err := parseKDL(tc.kdl)
			var spec *layoutSpec
			if err == nil {
				spec, err = layoutFromKDL(nodes, "/base")
			}
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want an error, got %+v", spec)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(spec.Tabs) != fmt.Sprint(tc.want) {
				t.Errorf("tabs = %+v, want %+v", spec.Tabs, tc.want)
			}
			// The serialized (resurrection) layout parses back to the same tabs.
			back, err := parseKDL(spec.serialize())
			if err != nil {
				t.Fatalf("serialized layout does not parse: %v\n%s", err, spec.serialize())
			}
			again, err := layoutFromKDL(back, "/elsewhere")
			if err != nil || fmt.Sprint(again.Tabs) != fmt.Sprint(spec.Tabs) {
				t.Errorf("round trip: %+v, %v; want %+v", again, err, spec.Tabs)
			}
		})
	}
}

func TestTmuxNameRoundTrip(t *testing.T) {
	for _, n := range []string{"proj", "my.proj", "a:b", "x%y", "sp ace", "ünï"} {
		tn := tmuxName(n)
		if strings.ContainsAny(tn, ".: ") {
			t.Errorf("tmuxName(%q) = %q keeps a character tmux rewrites", n, tn)
		}
		if got := sessionName(tn); got != n {
			t.Errorf("sessionName(tmuxName(%q)) = %q", n, got)
		}
	}
}
