package vm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFit(t *testing.T) {
	long := strings.Repeat("x", 200)
	for _, width := range []int{20, 80, 132} {
		if n := utf8.RuneCountInString(fit(long, width)); n > width-1 {
			t.Errorf("width %d: line of %d runes would wrap", width, n)
		}
	}
	if got := fit("short", 80); got != "short" {
		t.Errorf("fit cut a short line: %q", got)
	}
}

// TestProgressWords: the line says the phase in words and the elapsed
// time; Lima's raw log line (here one with a Go struct dump and an escape
// sequence) appears only with Verbose, and never with control characters.
func TestProgressWords(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "ha.stderr.log")
	raw := `{"level":"info","msg":"Waiting for the essential requirement 1 of 2: \"ssh\"; stderr=\"kex_exchange_identification\" \u001b[31m{SSHLocalPort:39271}"}`
	os.WriteFile(log, []byte(raw+"\n"), 0o644)
	for _, verbose := range []bool{false, true} {
		var out bytes.Buffer
		p := &Progress{W: &out, Verbose: verbose}
		stop := p.watch("web-dev", "starting", []string{log})
		time.Sleep(100 * time.Millisecond)
		stop()
		got := out.String()
		if !strings.HasPrefix(got, "sysvm: waiting for SSH on web-dev (0s)") {
			t.Errorf("verbose=%v: %q", verbose, got)
		}
		if strings.Contains(got, "SSHLocalPort") != verbose {
			t.Errorf("verbose=%v: Lima's line shown=%v: %q", verbose, !verbose, got)
		}
		if strings.ContainsRune(got, '\x1b') {
			t.Errorf("verbose=%v: an escape sequence reached the terminal: %q", verbose, got)
		}
	}
}
