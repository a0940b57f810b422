package ui

import (
	"bytes"
	"strings"
	"testing"
)

// testUI is a UI on buffers; stdin holds input.
func testUI(input string) (u *UI, out, errOut *bytes.Buffer) {
	out, errOut = new(bytes.Buffer), new(bytes.Buffer)
	return New(strings.NewReader(input), out, errOut), out, errOut
}

// Every line escapes what it is given, whoever formats it; --quiet
// silences Say alone.
func TestLines(t *testing.T) {
	const name = "/tmp/x\x1b]0;pwned\x07\x1b[2J"
	const escaped = `/tmp/x\x1b]0;pwned\a\x1b[2J`
	tests := []struct {
		name  string
		say   func(*UI, string, ...any)
		quiet bool
		want  string
	}{
		{"say", (*UI).Say, false, "sysvm: using " + escaped + "\n"},
		{"say, quiet", (*UI).Say, true, ""},
		{"tell, quiet", (*UI).Tell, true, "sysvm: using " + escaped + "\n"},
		{"note", (*UI).Note, true, "sysvm: note: using " + escaped + "\n"},
		{"warn", (*UI).Warn, true, "sysvm: warning: using " + escaped + "\n"},
		{"error", (*UI).Error, true, "sysvm: error: using " + escaped + "\n"},
		{"hint", (*UI).Hint, true, "sysvm: hint: using " + escaped + "\n"},
	}
	for _, tt := range tests {
		u, out, errOut := testUI("")
		u.Quiet = tt.quiet
		tt.say(u, "using %s", name)
		if errOut.String() != tt.want || out.Len() > 0 {
			t.Errorf("%s: stderr %q, stdout %q; want stderr %q", tt.name, errOut, out, tt.want)
		}
	}
	u, _, errOut := testUI("")
	u.CRLF = true
	u.Warn("agent forwarding: %s", "no\r\nline")
	if want := "sysvm: warning: agent forwarding: no\\r\nline\r\n"; errOut.String() != want {
		t.Errorf("CRLF: stderr %q, want %q", errOut, want)
	}
	var nilUI *UI
	nilUI.Say("nothing")
	nilUI.Warn("nothing")
}

func TestPrintEscapes(t *testing.T) {
	u, out, errOut := testUI("")
	u.Print("init in /tmp/\x1b[2J\n  wrote\tx\n")
	if want := "init in /tmp/\\x1b[2J\n  wrote\tx\n"; out.String() != want || errOut.Len() > 0 {
		t.Errorf("stdout %q, stderr %q; want stdout %q", out, errOut, want)
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name, input string
		tty, want   bool
		wantAsked   string // what stderr shows
	}{
		// Without a terminal nothing is asked: a refusal.
		{"no terminal", "y\n", false, false, ""},
		{"yes", "y\n", true, true, "Delete \\x1b[2J? [y/N] "},
		{"yes in words", " YES \n", true, true, "Delete \\x1b[2J? [y/N] "},
		{"no", "n\n", true, false, "Delete \\x1b[2J? [y/N] sysvm: nothing changed\n"},
		{"just enter", "\n", true, false, "Delete \\x1b[2J? [y/N] sysvm: nothing changed\n"},
		{"end of input", "", true, false, "Delete \\x1b[2J? [y/N] sysvm: nothing changed\n"},
	}
	for _, tt := range tests {
		u, _, errOut := testUI(tt.input)
		u.InTTY = tt.tty
		if u.CanPrompt() != tt.tty {
			t.Errorf("%s: CanPrompt = %v", tt.name, !tt.tty)
		}
		if got := u.Confirm("Delete \x1b[2J?"); got != tt.want || errOut.String() != tt.wantAsked {
			t.Errorf("%s: Confirm = %v, stderr %q; want %v, %q", tt.name, got, errOut, tt.want, tt.wantAsked)
		}
	}
	if (*UI)(nil).Confirm("?") {
		t.Error("a nil UI said yes")
	}
}

func TestResetScreenOnlyOnATerminal(t *testing.T) {
	for _, tty := range []bool{false, true} {
		u, out, _ := testUI("")
		u.OutTTY = tty
		u.ResetScreen(nil)
		if got := strings.HasPrefix(out.String(), "\x1b[?1049l") && strings.HasSuffix(out.String(), "\r\n"); got != tty {
			t.Errorf("tty=%v: wrote %q", tty, out)
		}
	}
}

// A buffer is no terminal; New finds the width of none.
func TestNewOnBuffers(t *testing.T) {
	u, _, _ := testUI("")
	if u.InTTY || u.OutTTY || u.ErrTTY || u.Width != 80 {
		t.Errorf("New on buffers: %+v", u)
	}
}
