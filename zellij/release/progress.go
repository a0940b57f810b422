package release

import (
	"fmt"
	"io"
	"time"
)

// progress reports a download on a writer: on a terminal one line
// rewritten in place at most every 200ms, elsewhere a line per quarter
// (or per 8 MiB when the size is unknown). A nil *progress is quiet.
type progress struct {
	w     io.Writer
	tty   bool
	total int64
	n     int64
	start time.Time
	last  time.Time
	step  int64 // next byte count that prints a plain line
	now   func() time.Time
}

func (c *Cache) progress(name string, total int64) *progress {
	if c.Progress == nil {
		return nil
	}
	p := &progress{w: c.Progress, tty: c.TTY, total: total, now: time.Now}
	p.start = p.now()
	p.step = p.stride()
	fmt.Fprintf(p.w, "sysvm: downloading zellij %s from %s\n", Version, name)
	return p
}

func (p *progress) stride() int64 {
	if p.total > 0 {
		return (p.total + 3) / 4
	}
	return 8 << 20
}

func (p *progress) add(n int) {
	if p == nil {
		return
	}
	p.n += int64(n)
	t := p.now()
	switch {
	case p.tty && t.Sub(p.last) >= 200*time.Millisecond:
		p.last = t
		// \r and erase-line keep it one line; line() stays short so that
		// it never wraps on an 80-column terminal.
		fmt.Fprintf(p.w, "\r\x1b[K%s", p.line(t))
	case !p.tty && p.n >= p.step && (p.total <= 0 || p.n < p.total):
		p.step += p.stride()
		fmt.Fprintln(p.w, p.line(t))
	}
}

func (p *progress) done(ok bool) {
	if p == nil {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	if ok {
		fmt.Fprintf(p.w, "sysvm: downloaded %s in %s\n", size(p.n), p.now().Sub(p.start).Round(time.Second))
	}
}

// line is the progress at t: "sysvm: zellij 12.0 MiB of 40.0 MiB, 4.0 MiB/s, 7s left".
func (p *progress) line(t time.Time) string {
	s := "sysvm: zellij " + size(p.n)
	if p.total > 0 {
		s += " of " + size(p.total)
	}
	el := t.Sub(p.start)
	if el < time.Second/2 {
		return s
	}
	rate := float64(p.n) / el.Seconds()
	s += ", " + size(int64(rate)) + "/s"
	if p.total > 0 && rate > 0 && p.n < p.total {
		left := time.Duration(float64(p.total-p.n) / rate * float64(time.Second))
		s += ", " + left.Round(time.Second).String() + " left"
	}
	return s
}

// size renders a byte count: "512 B", "3.4 KiB", "12.0 MiB".
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
