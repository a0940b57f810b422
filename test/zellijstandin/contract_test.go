package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// contract lists each Zellij 0.45.0 behaviour the stand-in models and the
// source it follows (paths in github.com/zellij-org/zellij at v0.45.0),
// with the test that holds the stand-in to it.
var contract = []struct{ behaviour, source, test string }{
	{"`--version` prints `zellij 0.45.0`", "Cargo.toml (version), zellij-utils/src/cli.rs", "TestNoSessionsAndUsageErrors"},
	{"usage errors in clap 4 wording, exit 2", "Cargo.lock:570-571 (clap 4.6.4)", "TestNoSessionsAndUsageErrors"},
	{"Ctrl-o d detaches", "zellij-utils/assets/config/default.kdl:123-126, :196, :227", "TestContractDetachKeyAndModes"},
	{"kitty keyboard ESC[>1u, theme ESC[?2031h, focus ESC[?1004h at attach", "zellij-client/src/lib.rs:54, :58, :64, :970-981, :1177", "TestContractDetachKeyAndModes"},
	{"ESC[<1u ESC[?2031l ESC[?1004l before the goodbye line of a clean exit", "zellij-client/src/lib.rs:1609, :1758-1772", "TestContractDetachKeyAndModes"},
	{"nothing written for a client killed with its terminal", "zellij-client/src/lib.rs:1609 (the teardown is the client's own write)", "TestContractKilledClient"},
	{"panes inherit the client's TERM (Zellij never sets it)", "zellij-server/src (no TERM set; only read in notifications.rs:22)", "TestContractDetachKeyAndModes"},
	{"a new session without tabs opens the release notes once per version, else a startup tip, unless turned off", "zellij-server/src/lib.rs:1130-1148, :2372-2413; zellij-utils/src/input/options.rs:316-326", "TestContractFirstRunPane"},
	{"two first attaches in a new session's first moment: the first server is orphaned, invisible to ls", "src/commands.rs:752-790, zellij-client/src/lib.rs:1148, zellij-server/src/lib.rs:930", "TestContractTwoFirstAttaches"},
}

func TestContractListsSources(t *testing.T) {
	for _, c := range contract {
		if c.source == "" || c.test == "" {
			t.Errorf("%s: no source or test", c.behaviour)
		}
		t.Logf("%-70s %s", c.behaviour, c.source)
	}
}

// startSessionPTY attaches a new session whose pane writes its environment
// to a file, and waits for the client.
func startSessionPTY(t *testing.T, s *standin, extraEnv []string) (*ptyRun, string) {
	t.Helper()
	envFile := filepath.Join(s.dir, "pane.env")
	layout := filepath.Join(s.dir, "env.kdl")
	kdl := "layout {\n    tab name=\"t\" {\n        pane command=\"sh\" {\n            args \"-c\" " +
		kdlQuote("env > "+envFile+".tmp && mv "+envFile+".tmp "+envFile+"; exec sleep 300") + "\n        }\n    }\n}\n"
	if err := os.WriteFile(layout, []byte(kdl), 0o644); err != nil {
		t.Fatal(err)
	}
	p := s.startPTY(extraEnv, "--layout", layout, "attach", "--create", "modes")
	waitClient(t, s, "modes")
	eventually(t, 10*time.Second, "the pane's environment", func() bool { return fileExists(envFile) })
	return p, envFile
}

func TestContractDetachKeyAndModes(t *testing.T) {
	s := newStandin(t)
	p, envFile := startSessionPTY(t, s, []string{"TERM=xterm-kitty"})
	if out := p.output(); !strings.Contains(out, kittyPush) || !strings.Contains(out, themeOn) || !strings.Contains(out, focusOn) {
		t.Errorf("attach did not turn on the three modes: %q", out)
	}
	if env, _ := os.ReadFile(envFile); !strings.Contains(string(env), "\nTERM=xterm-kitty\n") {
		t.Errorf("the pane does not inherit the client's TERM:\n%s", env)
	}
	if _, err := p.tty.WriteString("\x0fd"); err != nil { // Ctrl-o d
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d after Ctrl-o d", code)
	}
	out := p.output()
	i := strings.LastIndex(out, kittyPop+themeOff+focusOff)
	if i < 0 || i > strings.LastIndex(out, "Session detached") {
		t.Errorf("no teardown before the goodbye line: %q", out)
	}
	if strings.Count(out, kittyPush) != strings.Count(out, kittyPop) {
		t.Errorf("pushes and pops differ: %q", out)
	}
}

func TestContractKilledClient(t *testing.T) {
	s := newStandin(t)
	p, _ := startSessionPTY(t, s, nil)
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.wait(t, 10*time.Second)
	// (tmux, the stand-in's renderer, still turns off focus reporting.)
	if out := p.output(); strings.Contains(out, kittyPop) || strings.Contains(out, themeOff) {
		t.Errorf("a killed client wrote its teardown: %q", out)
	}
}

func TestContractTwoFirstAttaches(t *testing.T) {
	s := newStandin(t)
	s.env = append(s.env, "ZELLIJ_STANDIN_START_DELAY=1s")
	a := s.startPTY(nil, "attach", "--create", "race")
	b := s.startPTY(nil, "attach", "--create", "race")
	defer func() {
		if t.Failed() {
			t.Logf("first: %q\nsecond: %q", a.output(), b.output())
		}
	}()
	// The session and an orphan, one client each.
	eventually(t, 10*time.Second, "the session and an orphan, one client each", func() bool {
		out, _ := s.tmuxCmd("list-sessions", "-F", "#{session_name} #{session_attached}").Output()
		return strings.Contains(string(out), orphanPrefix) && strings.Count(string(out), " 1\n") == 2
	})
	if res := s.mustRun("ls", "-n"); strings.Count(res.Stdout, "race [") != 1 || strings.Contains(res.Stdout, "orphan") {
		t.Errorf("ls -n = %q, want the one visible session", res.Stdout)
	}
}

func TestContractFirstRunPane(t *testing.T) {
	s := newStandin(t)
	layout := filepath.Join(s.dir, "notabs.kdl")
	os.WriteFile(layout, []byte("layout {\n    pane\n}\n"), 0o644)
	floating := func(name string) string {
		s.mustRun("--layout", layout, "attach", "-b", name)
		b, _ := os.ReadFile(filepath.Join(s.dir, "sessions", name, "floating"))
		return strings.TrimSpace(string(b))
	}
	if got := floating("a"); got != "release-notes" {
		t.Errorf("first session: %q, want the release notes", got)
	}
	if got := floating("b"); got != "startup-tip" {
		t.Errorf("second session: %q, want a startup tip", got)
	}
	s.mustRun("--layout", layout, "attach", "-b", "c", "options", "--show-startup-tips", "false", "--show-release-notes", "false")
	if b, _ := os.ReadFile(filepath.Join(s.dir, "sessions", "c", "floating")); strings.TrimSpace(string(b)) != "" {
		t.Errorf("tips turned off, yet %q", b)
	}
}
