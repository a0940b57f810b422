package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/ui"
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

// Each kind of failure exits with the code `sysvm help` documents, and the
// report prints the error and its hints.
func TestReportExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitFailure},
		{hint.Usage(errors.New("bad flag")), ExitUsage},
		{fmt.Errorf("%w: stopped waiting for x-dev", hint.ErrInterrupted), ExitInterrupted},
		{context.Canceled, ExitInterrupted},
		{hint.Wrap(fmt.Errorf("%w: gave up reconnecting to x-dev", hint.ErrUnreachable), "sysvm status"), ExitUnreachable},
		{fmt.Errorf("%w: x-dev no longer exists", hint.ErrGone), ExitFailure},
		{fmt.Errorf("%w: inside a VM", hint.ErrNested), ExitFailure},
		{&ExitError{Code: 42}, 42},
	}
	for _, tt := range tests {
		errf, err := os.CreateTemp(t.TempDir(), "stderr")
		if err != nil {
			t.Fatal(err)
		}
		app := &App{Out: io.Discard, ErrOut: errf, ui: ui.New(nil, io.Discard, errf)}
		if got := app.report(tt.err); got != tt.want {
			t.Errorf("report(%v) = %d, want %d", tt.err, got, tt.want)
		}
		errf.Close()
		out, _ := os.ReadFile(errf.Name())
		if tt.err == nil || tt.want == 42 {
			if len(out) > 0 {
				t.Errorf("report(%v) printed %q", tt.err, out)
			}
			continue
		}
		if !bytes.HasPrefix(out, []byte("sysvm: error: "+tt.err.Error()+"\n")) {
			t.Errorf("report(%v) printed %q", tt.err, out)
		}
		if h := hint.Of(tt.err); len(h) > 0 && !bytes.Contains(out, []byte("sysvm: hint: "+h[0]+"\n")) {
			t.Errorf("report(%v) printed no hint: %q", tt.err, out)
		}
	}
}
