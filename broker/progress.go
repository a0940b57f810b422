package broker

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sysvm/sysvm/lima"
)

// Progress reports what a VM start is doing on stderr: the phase, the time
// elapsed and the latest line of Lima's own log. On a terminal it is one
// line rewritten in place; otherwise a plain line per phase, and a reminder
// every 15 seconds; with Quiet, nothing.
type Progress struct {
	W     io.Writer
	TTY   bool
	Quiet bool
	// Width bounds the in-place line on a terminal.
	Width int
}

// watch follows a start until stop is closed. files are the logs to read the
// latest line from, in order of preference (the hostagent's, then limactl's).
func (p *Progress) watch(vm, firstPhase string, files []string, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	if p == nil || p.Quiet || p.W == nil {
		return &wg
	}
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
			elapsed := time.Since(start).Round(time.Second)
			if p.TTY {
				line := fmt.Sprintf("sysvm: %s %s (%s)", ph, vm, elapsed)
				if msg != "" {
					line += " · " + msg
				}
				if w := p.Width; w > 10 && len([]rune(line)) > w-1 {
					line = string([]rune(line)[:w-2]) + "…"
				}
				if line != lastPrinted {
					fmt.Fprintf(p.W, "\r\x1b[K%s", line)
					lastPrinted = line
				}
			} else if ph != phase || time.Since(lastPlain) >= 15*time.Second {
				line := fmt.Sprintf("sysvm: %s %s (%s)", ph, vm, elapsed)
				if msg != "" {
					line += ": " + msg
				}
				fmt.Fprintln(p.W, line)
				lastPlain = time.Now()
			}
			phase = ph
			select {
			case <-stop:
				if p.TTY {
					fmt.Fprint(p.W, "\r\x1b[K")
				}
				return
			case <-tick.C:
			}
		}
	}()
	return &wg
}

// Say prints one status line unless quiet.
func (p *Progress) Say(format string, args ...any) {
	if p == nil || p.Quiet || p.W == nil {
		return
	}
	fmt.Fprintf(p.W, "sysvm: "+format+"\n", args...)
}

// phaseOf guesses the boot phase from Lima's latest log message.
func phaseOf(first, msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "final requirement") || strings.Contains(m, "provision"):
		return "provisioning"
	case strings.Contains(m, "requirement") || strings.Contains(m, "ssh"):
		return "waiting for ssh on"
	case strings.Contains(m, "starting qemu") || strings.Contains(m, "starting vz") ||
		strings.Contains(m, "hostagent") || strings.Contains(m, "booting"):
		return "booting"
	}
	return first
}

// lastLogLine returns the message of the last line of a log that is either
// JSON lines ({"msg": ...}, the hostagent's) or logrus text (limactl's).
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
	if strings.HasPrefix(last, "{") && json.Unmarshal([]byte(last), &j) == nil {
		return j.Msg
	}
	return lima.LogMessage(last)
}
