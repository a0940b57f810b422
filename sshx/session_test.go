package sshx

import (
	"context"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sysvm/sysvm/ui"
)

// fakeChannel is a remote command that ends when end is closed (at once
// when end is nil) with exit status 0.
type fakeChannel struct {
	end     chan struct{}
	started chan struct{}
	resizes atomic.Int32
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func (f *fakeChannel) Start(string, *PTY, string, io.Writer, io.Writer) (io.WriteCloser, error) {
	if f.started != nil {
		close(f.started)
	}
	return nopWriteCloser{io.Discard}, nil
}

func (f *fakeChannel) WindowChange(rows, cols int) error { f.resizes.Add(1); return nil }

func (f *fakeChannel) Wait() (int, error) {
	if f.end != nil {
		<-f.end
	}
	return 0, nil
}

func (f *fakeChannel) Close() error { return nil }

// testTerminal is a Terminal on a pipe (not a TTY) that no one types into.
func testTerminal(t *testing.T) *Terminal {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); r.Close(); out.Close() })
	return NewTerminal(r, out, ui.New(nil, io.Discard, io.Discard))
}

// TestRunLeavesNoGoroutines runs many PTY sessions, as an attach does over
// reconnections: each must end every goroutine it started.
func TestRunLeavesNoGoroutines(t *testing.T) {
	term := testTerminal(t)
	pty := Session{Command: "true", PTY: true}
	// The first run starts the Terminal's own input reader, which stays.
	if _, err := term.Run(context.Background(), &fakeChannel{}, pty); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	const sessions = 50
	for i := 0; i < sessions; i++ {
		if _, err := term.Run(context.Background(), &fakeChannel{}, pty); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after %d sessions, %d before: the sessions leak", n, sessions, before)
	}
}

// TestRunForwardsWindowChanges: a SIGWINCH during a PTY session reaches the
// remote side.
func TestRunForwardsWindowChanges(t *testing.T) {
	term := testTerminal(t)
	ch := &fakeChannel{end: make(chan struct{}), started: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := term.Run(context.Background(), ch, Session{Command: "true", PTY: true})
		done <- err
	}()
	<-ch.started
	deadline := time.Now().Add(5 * time.Second)
	// Run installs its handler just after Start: signal until one arrives.
	for ch.resizes.Load() == 0 && time.Now().Before(deadline) {
		syscall.Kill(os.Getpid(), syscall.SIGWINCH)
		time.Sleep(20 * time.Millisecond)
	}
	close(ch.end)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ch.resizes.Load() == 0 {
		t.Error("SIGWINCH during the session did not reach WindowChange")
	}
}
