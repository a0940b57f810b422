package vm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/ui/uitest"
)

// TestFirstUseIsSaid: a start of a guest whose console showed no
// fingerprints says that the first key will be trusted, and why: a console
// log longer than the tail sysvm reads is named.
func TestFirstUseIsSaid(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, "x-dev"), 0o755)
	os.WriteFile(filepath.Join(home, "x-dev", "serial.log"), []byte(strings.Repeat("boot chatter\n", 30000)), 0o644)
	u, _, _, out := uitest.New()
	m := &Manager{LimaHome: home, State: state.Dir(t.TempDir()), Progress: &Progress{UI: u}}
	if printed, err := m.beforeStart("x-dev"); err != nil || printed {
		t.Fatalf("beforeStart = %v, %v", printed, err)
	}
	want := "sysvm: x-dev printed none last boot in the last 256 KiB of its console log, all sysvm reads: sysvm trusts the host key of the first connection\n"
	if out.String() != want {
		t.Errorf("said %q, want %q", out.String(), want)
	}
}
