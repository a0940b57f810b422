// Package term drives a program in a real pseudo-terminal for end-to-end
// tests: type into it, wait for text on its screen stream, resize it.
package term

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Term is a running program attached to a pty.
type Term struct {
	t    testing.TB
	Cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
	err  error
}

// Start runs cmd in a new 40x120 pty.
func Start(t testing.TB, cmd *exec.Cmd) *Term {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("starting %v in a pty: %v", cmd.Args, err)
	}
	tm := &Term{t: t, Cmd: cmd, pty: f, done: make(chan struct{})}
	go func() {
		b := make([]byte, 8192)
		for {
			n, err := f.Read(b)
			tm.mu.Lock()
			tm.buf.Write(b[:n])
			tm.mu.Unlock()
			if err != nil {
				break
			}
		}
		tm.err = cmd.Wait()
		close(tm.done)
	}()
	t.Cleanup(func() {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
		select {
		case <-tm.done:
		case <-time.After(5 * time.Second):
		}
		f.Close()
		if t.Failed() {
			t.Logf("terminal output of %v:\n%s", cmd.Args, tm.Output())
		}
	})
	return tm
}

// Write types s.
func (tm *Term) Write(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.pty, s); err != nil {
		tm.t.Fatalf("typing %q: %v", s, err)
	}
}

// Line types s and Enter.
func (tm *Term) Line(s string) { tm.t.Helper(); tm.Write(s + "\r") }

// Output returns everything printed so far.
func (tm *Term) Output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.buf.String()
}

// Mark returns the current output length, for WaitAfter.
func (tm *Term) Mark() int { return len(tm.Output()) }

// Wait waits until the output matches re (anywhere) and returns the match.
func (tm *Term) Wait(re string, timeout time.Duration) string {
	tm.t.Helper()
	return tm.WaitAfter(0, re, timeout)
}

// WaitAfter waits until the output after mark matches re.
func (tm *Term) WaitAfter(mark int, re string, timeout time.Duration) string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		out := tm.Output()
		if mark <= len(out) {
			if m := rx.FindString(out[mark:]); m != "" {
				return m
			}
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out after %s waiting for %q; output after mark:\n%s", timeout, re, tail(out, mark))
		}
		select {
		case <-tm.done:
			out = tm.Output()
			if m := rx.FindString(out[min(mark, len(out)):]); m != "" {
				return m
			}
			tm.t.Fatalf("process exited (%v) before printing %q; output after mark:\n%s", tm.err, re, tail(out, mark))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func tail(out string, mark int) string {
	if mark > len(out) {
		mark = len(out)
	}
	s := out[mark:]
	if len(s) > 4000 {
		s = "…" + s[len(s)-4000:]
	}
	return strings.ToValidUTF8(s, "?")
}

// Resize changes the window size (the program gets SIGWINCH).
func (tm *Term) Resize(rows, cols uint16) {
	tm.t.Helper()
	if err := pty.Setsize(tm.pty, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		tm.t.Fatal(err)
	}
}

// ExitCode waits for the program to exit and returns its exit code.
func (tm *Term) ExitCode(timeout time.Duration) int {
	tm.t.Helper()
	select {
	case <-tm.done:
	case <-time.After(timeout):
		tm.t.Fatalf("%v did not exit within %s; output:\n%s", tm.Cmd.Args, timeout, tail(tm.Output(), 0))
	}
	if tm.err == nil {
		return 0
	}
	if ee, ok := tm.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	tm.t.Fatalf("waiting for %v: %v", tm.Cmd.Args, tm.err)
	return -1
}

// Exited reports whether the program has exited.
func (tm *Term) Exited() bool {
	select {
	case <-tm.done:
		return true
	default:
		return false
	}
}

// String describes the terminal for messages.
func (tm *Term) String() string { return fmt.Sprintf("pty(%v)", tm.Cmd.Args) }
