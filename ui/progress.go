package ui

import (
	"fmt"
	"time"

	"github.com/sysvm/sysvm/display"
)

// redraw is how often at most the line is drawn again in place, unless
// the caller marks a step.
const redraw = 200 * time.Millisecond

// Progress is one task's progress on stderr. On a terminal it is one line
// rewritten in place, at most every 200ms and never as wide as the
// terminal, so it never wraps; elsewhere it is a plain line at each step
// the caller marks. A nil *Progress prints nothing: a quiet UI gives one.
// One goroutine updates it; [UI.Say] and the others may print meanwhile
// (the line makes way for theirs).
type Progress struct {
	u     *UI
	now   func() time.Time
	start time.Time
	shown string    // the line last drawn in place
	at    time.Time // when it was drawn
}

// Progress starts a progress; nil with --quiet.
func (u *UI) Progress() *Progress {
	if u == nil || u.Quiet || u.ErrOut == nil {
		return nil
	}
	return u.progress(time.Now)
}

func (u *UI) progress(now func() time.Time) *Progress {
	return &Progress{u: u, now: now, start: now()}
}

// Elapsed is the time since the progress started.
func (p *Progress) Elapsed() time.Duration {
	if p == nil {
		return 0
	}
	return p.now().Sub(p.start)
}

// Update shows the progress: `sysvm: <line>`, and after it, with
// --verbose, detail (the underlying tool's own latest line); both are
// escaped. step marks a new step (a new phase, another quarter of a
// download, a reminder): off a terminal only steps print a line, and on
// one a step is drawn at once.
func (p *Progress) Update(line, detail string, step bool) {
	if p == nil {
		return
	}
	u := p.u
	text := "sysvm: " + display.Safe(line)
	if u.Verbose && detail != "" {
		text += " · " + display.Safe(detail)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.ErrTTY {
		if step {
			fmt.Fprintln(u.ErrOut, text)
		}
		return
	}
	text = fit(text, u.Width)
	t := p.now()
	if u.drawn && (text == p.shown || !step && t.Sub(p.at) < redraw) {
		return
	}
	fmt.Fprint(u.ErrOut, eraseLine+text)
	u.drawn, p.shown, p.at = true, text, t
}

// Done ends the progress: the line drawn in place is erased.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	u := p.u
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ErrTTY {
		fmt.Fprint(u.ErrOut, eraseLine)
		u.drawn = false
	}
}

// fit cuts line to leave the last column of a width-wide terminal free, so
// the line never wraps.
func fit(line string, width int) string {
	if width <= 10 {
		width = 80
	}
	r := []rune(line)
	if len(r) <= width-1 {
		return line
	}
	return string(r[:width-2]) + "…"
}
