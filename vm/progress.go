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
	"github.com/sysvm/sysvm/ui"
)

// Progress reports what a VM start is doing, on the terminal of its UI:
// the phase in words, read from Lima's logs, and the time elapsed; Lima's
// own latest log line with --verbose (see [ui.Progress]). Off a terminal
// it prints a line per phase and a reminder every 15 seconds. A nil
// Progress, or one without a UI, is quiet.
type Progress struct {
	UI *ui.UI
}

// remind is how often a plain progress line repeats within one phase.
const remind = 15 * time.Second

// watch follows a start until the returned stop is called. files are the
// logs to read Lima's latest line from, in order of preference (the
// hostagent's, then limactl's).
func (p *Progress) watch(vm, firstPhase string, files []string) (stop func()) {
	if p == nil {
		return func() {}
	}
	pr := p.UI.Progress()
	if pr == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		phase, stepped := "", time.Time{}
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
			step := ph != phase || time.Since(stepped) >= remind
			if step {
				stepped = time.Now()
			}
			pr.Update(fmt.Sprintf("%s %s (%s)", ph, vm, pr.Elapsed().Round(time.Second)), msg, step)
			phase = ph
			select {
			case <-done:
				pr.Done()
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// Say prints one status line, escaped, unless quiet.
func (p *Progress) Say(format string, args ...any) {
	if p != nil {
		p.UI.Say(format, args...)
	}
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
