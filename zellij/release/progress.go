package release

import (
	"fmt"
	"time"

	"github.com/sysvm/sysvm/ui"
)

// progress reports a download on the cache's UI (see [ui.Progress]): on a
// terminal one line rewritten in place, elsewhere a line per quarter (or
// per 8 MiB when the size is unknown). Quiet when the UI is.
type progress struct {
	c     *Cache
	p     *ui.Progress
	total int64
	n     int64
	step  int64 // next byte count that marks a step
}

func (c *Cache) progress(name string, total int64) *progress {
	d := &progress{c: c, p: c.UI.Progress(), total: total}
	d.step = d.stride()
	if d.p != nil {
		c.UI.Say("downloading zellij %s from %s", Version, name)
	}
	return d
}

func (d *progress) stride() int64 {
	if d.total > 0 {
		return (d.total + 3) / 4
	}
	return 8 << 20
}

func (d *progress) add(n int) {
	if d.p == nil {
		return
	}
	d.n += int64(n)
	step := d.n >= d.step && (d.total <= 0 || d.n < d.total)
	if step {
		d.step += d.stride()
	}
	d.p.Update(d.line(d.p.Elapsed()), "", step)
}

func (d *progress) done(ok bool) {
	d.p.Done()
	if ok && d.p != nil {
		d.c.UI.Say("downloaded %s in %s", size(d.n), d.p.Elapsed().Round(time.Second))
	}
}

// line is the progress after el: "zellij 12.0 MiB of 40.0 MiB, 4.0 MiB/s,
// 7s left", short enough never to wrap on an 80-column terminal.
func (d *progress) line(el time.Duration) string {
	s := "zellij " + size(d.n)
	if d.total > 0 {
		s += " of " + size(d.total)
	}
	if el < time.Second/2 {
		return s
	}
	rate := float64(d.n) / el.Seconds()
	s += ", " + size(int64(rate)) + "/s"
	if d.total > 0 && rate > 0 && d.n < d.total {
		left := time.Duration(float64(d.total-d.n) / rate * float64(time.Second))
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
