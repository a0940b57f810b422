package cli

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The init command's wiring: misuse exits with ExitUsage, and a run writes
// the template and allows its sysvm.yaml in the state directory.
func TestInitUsage(t *testing.T) {
	state := t.TempDir()
	run := func(args ...string) int {
		errf, err := os.CreateTemp(t.TempDir(), "stderr")
		if err != nil {
			t.Fatal(err)
		}
		defer errf.Close()
		app := &App{Out: io.Discard, ErrOut: errf, Getenv: func(k string) string {
			if k == "SYSVM_STATE_DIR" {
				return state
			}
			return ""
		}}
		return app.Run(args)
	}
	if code := run("init", "--template", "vm-bogus", t.TempDir()); code != ExitUsage {
		t.Errorf("unknown template: exit %d, want %d", code, ExitUsage)
	}
	if code := run("init", "a", "b"); code != ExitUsage {
		t.Errorf("two directories: exit %d, want %d", code, ExitUsage)
	}
	dir := filepath.Join(t.TempDir(), "p")
	if code := run("init", "--template", "vm-custom", dir); code != 0 {
		t.Fatalf("init: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "sysvm.yaml")); err != nil {
		t.Error(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(state, "allowed")); len(entries) == 0 {
		t.Error("init allowed nothing in the state directory")
	}
}
