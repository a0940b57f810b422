package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// An error naming a directory reaches the terminal without the escape
// sequences in the name.
func TestErrorsShowNoEscapeSequences(t *testing.T) {
	errf, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	state := t.TempDir()
	app := &App{Out: io.Discard, ErrOut: errf, Getenv: func(k string) string {
		if k == "SYSVM_STATE_DIR" {
			return state
		}
		return ""
	}}
	// A directory others can write: the error names it as it is.
	dir := filepath.Join(t.TempDir(), "x\x1b]0;pwned\x07\x1b[2J")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if code := app.Run([]string{"config", dir}); code != ExitFailure {
		t.Fatalf("exit %d, want %d", code, ExitFailure)
	}
	out, _ := os.ReadFile(errf.Name())
	if bytes.ContainsAny(out, "\x1b\x07") || !bytes.Contains(out, []byte(`x\x1b]0;pwned\a\x1b[2J`)) {
		t.Fatalf("stderr carries the raw escape sequences or lacks the escaped name:\n%q", out)
	}
}
