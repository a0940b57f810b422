package ui

import (
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFit(t *testing.T) {
	long := strings.Repeat("x", 200)
	for _, width := range []int{0, 20, 80, 132} {
		want := width
		if want <= 10 {
			want = 80
		}
		if n := utf8.RuneCountInString(fit(long, width)); n != want-1 {
			t.Errorf("width %d: line of %d runes, want %d", width, n, want-1)
		}
	}
	if got := fit("short", 80); got != "short" {
		t.Errorf("fit cut a short line: %q", got)
	}
}

// update is one call of Progress.Update, after the clock moved by after.
type update struct {
	after        time.Duration
	line, detail string
	step         bool
}

func TestProgress(t *testing.T) {
	steps := []update{
		{0, "booting web-dev (0s)", "Starting QEMU", true},
		{100 * time.Millisecond, "booting web-dev (0s)", "still", false},                // unchanged: not drawn again
		{100 * time.Millisecond, "booting web-dev (1s)", "", false},                     // changed, 200ms after the last draw
		{50 * time.Millisecond, "booting web-dev (2s)", "", false},                      // changed, too soon
		{50 * time.Millisecond, "provisioning \x1b[2Jweb-dev (2s)", "\x1b]0;x\a", true}, // a step: at once
	}
	tests := []struct {
		name    string
		tty     bool
		verbose bool
		width   int
		want    string
	}{
		{"plain", false, false, 80,
			"sysvm: booting web-dev (0s)\nsysvm: provisioning \\x1b[2Jweb-dev (2s)\n"},
		{"plain, verbose", false, true, 80,
			"sysvm: booting web-dev (0s) · Starting QEMU\nsysvm: provisioning \\x1b[2Jweb-dev (2s) · \\x1b]0;x\\a\n"},
		{"terminal", true, false, 80,
			"\r\x1b[Ksysvm: booting web-dev (0s)\r\x1b[Ksysvm: booting web-dev (1s)\r\x1b[Ksysvm: provisioning \\x1b[2Jweb-dev (2s)\r\x1b[K"},
		{"terminal, verbose, narrow", true, true, 20,
			"\r\x1b[Ksysvm: booting web…\r\x1b[Ksysvm: provisionin…\r\x1b[K"}, // cut alike: drawn once
	}
	for _, tt := range tests {
		u, out, errOut := testUI("")
		u.ErrTTY, u.Verbose, u.Width = tt.tty, tt.verbose, tt.width
		now := time.Unix(1000, 0)
		p := u.progress(func() time.Time { return now })
		for _, s := range steps {
			now = now.Add(s.after)
			p.Update(s.line, s.detail, s.step)
		}
		p.Done()
		if errOut.String() != tt.want || out.Len() > 0 {
			t.Errorf("%s: stderr %q, stdout %q; want stderr %q", tt.name, errOut, out, tt.want)
		}
		if p.Elapsed() != 300*time.Millisecond {
			t.Errorf("%s: Elapsed = %v", tt.name, p.Elapsed())
		}
		for _, l := range strings.Split(errOut.String(), "\r\x1b[K") {
			if tt.tty && utf8.RuneCountInString(l) >= tt.width {
				t.Errorf("%s: %q would wrap at %d columns", tt.name, l, tt.width)
			}
		}
	}
}

// With --quiet there is no progress, and a nil one prints nothing.
func TestProgressQuiet(t *testing.T) {
	u, _, errOut := testUI("")
	u.Quiet, u.ErrTTY = true, true
	p := u.Progress()
	if p != nil {
		t.Fatal("a quiet UI gave a progress")
	}
	p.Update("booting", "", true)
	p.Done()
	if p.Elapsed() != 0 || errOut.Len() > 0 {
		t.Errorf("a nil progress printed %q", errOut)
	}
	if (*UI)(nil).Progress() != nil {
		t.Error("a nil UI gave a progress")
	}
}

// A line said while the progress is drawn erases it first, and the
// progress is drawn again at its next update even if unchanged.
func TestLineMakesWayForProgress(t *testing.T) {
	u, _, errOut := testUI("")
	u.ErrTTY = true
	p := u.Progress()
	p.Update("booting", "", true)
	u.Warn("port in use")
	p.Update("booting", "", true)
	u.Warn("again")
	p.Update("booting", "", true)
	u.Log(slog.LevelDebug).Debug("limactl", "args", "start")
	want := "\r\x1b[Ksysvm: booting\r\x1b[Ksysvm: warning: port in use\n\r\x1b[Ksysvm: booting\r\x1b[Ksysvm: warning: again\n" +
		"\r\x1b[Ksysvm: booting\r\x1b[Ktime="
	if got := errOut.String(); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, " level=DEBUG msg=limactl args=start\n") {
		t.Errorf("stderr %q, want %q, then a log record", got, want)
	}
}
