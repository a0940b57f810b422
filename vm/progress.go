package vm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/sysvm/sysvm/lima"
)

// Progress reports what a VM start is doing on stderr: the phase in words
// and the time elapsed. On a terminal it is one line rewritten in place,
// never wider than the terminal; otherwise a plain line per phase and a
// reminder every 15 seconds; with Quiet, nothing. Lima's own latest log
// line is added only with Verbose.
type Progress struct {
	W       io.Writer
	TTY     bool
	Quiet   bool
	Verbose bool
	// Width bounds the in-place line on a terminal.
	Width int
}

// watch follows a start until the returned stop is called. files are the
// logs to read Lima's latest line from, in order of preference (the
// hostagent's, then limactl's).
func (p *Progress) watch(vm, firstPhase string, files []string) (stop func()) {
	if p == nil || p.Quiet || p.W == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		phase, lastPrinted, lastPlain := "", "", time.Time{}
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			msg := ""
			for _, f := range files {
				if m := lastLogLine(f); m != "" {
					msg = m
					break
				}
			}
			ph := phaseOf(firstPhase, msg)
			line := fmt.Sprintf("sysvm: %s %s (%s)", ph, vm, time.Since(start).Round(time.Second))
			if p.Verbose && msg != "" {
				line += " · " + msg
			}
			if p.TTY {
				line = fit(line, p.Width)
				if line != lastPrinted {
					fmt.Fprintf(p.W, "\r\x1b[K%s", line)
					lastPrinted = line
				}
			} else if ph != phase || time.Since(lastPlain) >= 15*time.Second {
				fmt.Fprintln(p.W, line)
				lastPlain = time.Now()
			}
			phase = ph
			select {
			case <-done:
				if p.TTY {
					fmt.Fprint(p.W, "\r\x1b[K")
				}
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
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

// Say prints one status line unless quiet.
func (p *Progress) Say(format string, args ...any) {
	if p == nil || p.Quiet || p.W == nil {
		return
	}
	fmt.Fprintf(p.W, "sysvm: "+format+"\n", args...)
}

// phaseOf names the boot phase, in words, from Lima's latest log message.
func phaseOf(first, msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "final requirement") || strings.Contains(m, "provision"):
		return "provisioning"
	case strings.Contains(m, "requirement") || strings.Contains(m, "ssh"):
		return "waiting for SSH on"
	case strings.Contains(m, "starting qemu") || strings.Contains(m, "starting vz") ||
		strings.Contains(m, "hostagent") || strings.Contains(m, "booting"):
		return "booting"
	}
	return first
}

// lastLogLine returns the message of the last line of a log that is either
// JSON lines ({"msg": ...}, the hostagent's) or logrus text (limactl's),
// on one line and without control characters: it goes to a terminal.
func lastLogLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 16<<10 {
		_, _ = f.Seek(-16<<10, io.SeekEnd)
	}
	last := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			last = line
		}
	}
	if last == "" {
		return ""
	}
	var j struct {
		Msg string `json:"msg"`
	}
	msg := lima.LogMessage(last)
	if strings.HasPrefix(last, "{") && json.Unmarshal([]byte(last), &j) == nil {
		msg = j.Msg
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
}
