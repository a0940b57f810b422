package vm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/ui/uitest"
)

// TestProgressWords: the line says the phase in words and the elapsed
// time; Lima's raw log line (here one with a Go struct dump and an escape
// sequence) appears only with Verbose, and never with control characters.
func TestProgressWords(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "ha.stderr.log")
	raw := `{"level":"info","msg":"Waiting for the essential requirement 1 of 2: \"ssh\"; stderr=\"kex_exchange_identification\" \u001b[31m{SSHLocalPort:39271}"}`
	os.WriteFile(log, []byte(raw+"\n"), 0o644)
	for _, verbose := range []bool{false, true} {
		u, _, out, errOut := uitest.New()
		u.Verbose = verbose
		p := &Progress{UI: u}
		stop := p.watch("web-dev", "starting", []string{log})
		time.Sleep(100 * time.Millisecond)
		stop()
		got := errOut.String()
		if out.Len() > 0 {
			t.Errorf("verbose=%v: progress on stdout: %q", verbose, out)
		}
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

// A project's path reaches the terminal escaped: a directory named with
// escape sequences can neither restyle it nor forge a line. (Say printed
// paths as they were.)
func TestSayEscapesProjectPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x\x1b]0;pwned\x07\x1b[2J")
	p := &project.Project{Dir: dir, VM: "x-dev"}
	if err := os.MkdirAll(filepath.Dir(p.LimaConfig()), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p.LimaConfig(), []byte("cpus: 2\n"), 0o644)
	u, _, _, errOut := uitest.New()
	m := &Manager{State: state.Dir(t.TempDir()), Progress: &Progress{UI: u}}
	// A change only a new VM takes: the hint names the project's path.
	if _, err := m.State.SaveCreated(p.VM, []byte("arch: x86_64\n")); err != nil {
		t.Fatal(err)
	}
	m.sayChanged(p, []byte("arch: aarch64\n"))
	got := errOut.String()
	if strings.ContainsAny(got, "\x1b\x07") || !strings.Contains(got, `x\x1b]0;pwned\a\x1b[2J is kept`) {
		t.Errorf("stderr carries the raw escape sequences or lacks the escaped path:\n%q", got)
	}
}
