package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/term"
)

var (
	keyboardPush = regexp.MustCompile(`\x1b\[>\d*u`)
	keyboardPop  = regexp.MustCompile(`\x1b\[<\d*u`)
)

// modesLeftOn describes the host terminal modes Zellij 0.45 turns on that
// are still on at the end of out ("" when none): kitty keyboard levels
// pushed and not popped, focus reporting, theme notifications.
func modesLeftOn(out string) string {
	var left []string
	if push, pop := len(keyboardPush.FindAllString(out, -1)), len(keyboardPop.FindAllString(out, -1)); push != pop {
		left = append(left, "kitty keyboard: "+strings.Repeat("push ", push)+"vs "+strings.Repeat("pop ", pop))
	}
	for _, mode := range []string{"1004", "2031"} {
		if strings.LastIndex(out, "\x1b[?"+mode+"h") > strings.LastIndex(out, "\x1b[?"+mode+"l") {
			left = append(left, "?"+mode)
		}
	}
	return strings.Join(left, ", ")
}

// A dropped link kills Zellij's client without its teardown: sysvm undoes
// every mode it turned on before saying anything on the host, and the
// reconnected session's own teardown (Ctrl-o d) leaves nothing on either.
func TestZellijModesResetAfterLostLink(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("modes")
	tm := e.attach(dir, nil)
	if out := tm.Output(); modesLeftOn(out) == "" {
		t.Fatalf("the session turned on none of Zellij 0.45's modes: %q", out)
	}
	for i := 1; i <= 2; i++ {
		mark := tm.Mark()
		if n, err := e.DropConnections("modes-dev"); err != nil || n == 0 {
			t.Fatalf("drop %d: killed %d processes: %v", i, n, err)
		}
		tm.WaitAfter(mark, `connection to modes-dev lost; reconnecting`, 20*time.Second)
		out := tm.Output()
		before := out[:strings.LastIndex(out, "connection to modes-dev lost")]
		if left := modesLeftOn(before); left != "" {
			t.Errorf("drop %d: still on when sysvm spoke on the host: %s", i, left)
		}
		answer(t, tm, "echo back-$((40+i))", "back-4", 20*time.Second)
	}
	if code := detach(t, tm); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	if left := modesLeftOn(tm.Output()); left != "" {
		t.Errorf("left on after the detach: %s", left)
	}
}

// hostTerminfo compiles an entry for name into a directory of its own, for
// the host side only (TERMINFO reaches sysvm, not the VM).
func hostTerminfo(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.WriteFile(src, []byte(name+"|host-only entry for the test,\n\tuse=xterm-256color,\n"), 0o644)
	if out, err := exec.Command("tic", "-x", "-o", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("tic: %v: %s", err, out)
	}
	return dir
}

// Zellij's panes inherit the host's TERM: a guest without its terminfo
// entry gets the host's; without one on the host either, xterm-256color
// with one note.
func TestZellijTermFromHost(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("kitty")
	e.ok(dir, "up")
	if r := e.SSH("kitty-dev", "infocmp xterm-kitty"); r.ExitCode == 0 {
		t.Fatalf("the guest already has xterm-kitty; the test needs one without it")
	}
	tm := e.attach(dir, []string{"TERM=xterm-kitty", "TERMINFO=" + hostTerminfo(t, "xterm-kitty")})
	answer(t, tm, `infocmp >/dev/null && echo "ti-ok-$TERM"`, "ti-ok-xterm-kitty", 10*time.Second)
	answer(t, tm, `echo "cols-$(tput cols)"`, "cols-120", 10*time.Second)
	if strings.Contains(tm.Output(), "no terminfo entry") {
		t.Errorf("a note although the entry was brought:\n%s", tm.Output())
	}
	detach(t, tm)

	// (A new session: a running one keeps the TERM it was created with.)
	tm = e.attach(e.layoutProject("plain"), []string{"TERM=sysvm-no-such-term"})
	answer(t, tm, `infocmp >/dev/null && echo "ti-ok-$TERM"`, "ti-ok-xterm-256color", 10*time.Second)
	if n := strings.Count(tm.Output(), "no terminfo entry for TERM=sysvm-no-such-term"); n != 1 {
		t.Errorf("%d notes about the missing entry, want 1:\n%s", n, tm.Output())
	}
	detach(t, tm)
}

// Two terminals entering a new project at once (restored tabs, the cd hook
// in both): one session with both clients. Zellij 0.45 would start two
// servers, the second orphaning the first.
func TestZellijOneFirstAttach(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("twice")
	// Zellij installed, no session yet; new sessions take 2s to start.
	detach(t, e.attach(dir, nil))
	e.GuestTmux("twice-dev", "kill-server")
	guest := e.GuestDir("twice-dev")
	os.RemoveAll(filepath.Join(guest, "cache"))
	os.RemoveAll(filepath.Join(guest, "sessions"))
	os.WriteFile(filepath.Join(guest, "start-delay"), []byte("2s\n"), 0o644)

	a := term.Start(t, e.cmd(dir, "attach"))
	b := term.Start(t, e.cmd(dir, "attach"))
	answer(t, a, "echo ready-$((40+2))", "ready-42", 30*time.Second)
	answer(t, b, "echo ready-$((40+2))", "ready-42", 30*time.Second)
	if r := e.GuestTmux("twice-dev", "list-sessions", "-F", "#{session_name} #{session_attached}"); r.Stdout != "twice 2\n" {
		t.Errorf("want one session with two clients, got %q", r.Stdout)
	}
	if r := e.ok(dir, "sessions"); strings.Count(r.Stdout, "\n") != 1 {
		t.Errorf("sessions: %s", r.Stdout)
	}
	detach(t, a)
	detach(t, b)
}

// A running session is re-attached to without its layout (Zellij 0.45
// parses --layout even then), and the zellij sysvm installed is on PATH
// in its panes.
func TestZellijReattachWithoutLayout(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("relay")
	tm := e.attach(dir, nil)
	answer(t, tm, `command -v zellij >/dev/null && echo "on-path-$(zellij --version | tr ' ' -)"`, "on-path-zellij-0.45.0", 10*time.Second)
	detach(t, tm)
	// A layout Zellij cannot parse does not stop a re-attach.
	os.WriteFile(filepath.Join(dir, ".sysvm", "layout.kdl"), []byte("layout {\n    tab name=\"main\" {\n"), 0o644)
	e.allow(dir)
	tm = e.attach(dir, nil)
	detach(t, tm)
}

// A project layout without tabs gets none of Zellij's first-run panes
// (release notes, startup tip) in the session sysvm creates.
func TestZellijNoTipsForTablessLayout(t *testing.T) {
	e := newEnv(t)
	dir := e.project("notabs", "")
	os.MkdirAll(filepath.Join(dir, ".sysvm"), 0o755)
	os.WriteFile(filepath.Join(dir, ".sysvm", "layout.kdl"), []byte("layout {\n    pane\n}\n"), 0o644)
	e.allow(dir)
	detach(t, e.attach(dir, nil))
	b, err := os.ReadFile(filepath.Join(e.GuestDir("notabs-dev"), "sessions", "notabs", "floating"))
	if err != nil || strings.TrimSpace(string(b)) != "" {
		t.Errorf("the new session opened %q (%v), want no first-run pane", b, err)
	}
}

// The default layout's editor pane opens the EDITOR the guest's ~/.profile
// sets (Zellij's panes are no login shells).
func TestZellijEditorFromProfile(t *testing.T) {
	e := newEnv(t)
	dir := e.project("editor", "")
	e.ok(dir, "up")
	r := e.SSH("editor-dev", `mkdir -p "$HOME/bin" && printf '#!/bin/sh\necho "$@" > "$HOME/edited"\nexec sleep 1000\n' > "$HOME/bin/myed" && chmod +x "$HOME/bin/myed" && echo "EDITOR=\"$HOME/bin/myed\"; export EDITOR" >> "$HOME/.profile" && echo "$HOME"`)
	if r.ExitCode != 0 {
		t.Fatalf("guest setup: %s", r)
	}
	marker := filepath.Join(strings.TrimSpace(r.Stdout), "edited")
	tm := term.Start(t, e.cmd(dir, "attach"))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if b, err := os.ReadFile(marker); err == nil {
			if strings.TrimSpace(string(b)) != "." {
				t.Errorf("the editor got %q, want the project directory .", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the EDITOR from ~/.profile never ran; screen:\n%s", tm.Output())
		}
	}
	// The pane runs before the client has taken the terminal over: the
	// detach keys wait for the client's screen (a CI flake typed them
	// into the attach script instead).
	tm.Wait(regexp.QuoteMeta("\x1b[?1049h"), 30*time.Second)
	detach(t, tm)
}
