package sshx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// Terminal is the local side of remote sessions: stdin, stdout, stderr.
// One Terminal serves every session of an attach, across reconnections, so
// that a single reader owns stdin and no keystroke goes to a dead session.
type Terminal struct {
	In  *os.File
	Out *os.File
	Err io.Writer

	once  sync.Once
	input chan []byte
}

// NewTerminal returns a Terminal on the given streams.
func NewTerminal(in, out *os.File, errw io.Writer) *Terminal {
	return &Terminal{In: in, Out: out, Err: errw}
}

// IsTTY reports whether both stdin and stdout are terminals.
func (t *Terminal) IsTTY() bool {
	return term.IsTerminal(int(t.In.Fd())) && term.IsTerminal(int(t.Out.Fd()))
}

// Size returns the terminal's width and height, or 80x24.
func (t *Terminal) Size() (w, h int) {
	if w, h, err := term.GetSize(int(t.Out.Fd())); err == nil && w > 0 && h > 0 {
		return w, h
	}
	return 80, 24
}

func (t *Terminal) pump() {
	t.input = make(chan []byte, 16)
	go func() {
		for {
			buf := make([]byte, 32<<10)
			n, err := t.In.Read(buf)
			if n > 0 {
				t.input <- buf[:n]
			}
			if err != nil {
				close(t.input)
				return
			}
		}
	}()
}

// LostError means the session ended without an exit status: the connection
// dropped, the keepalive gave up, or the server went away.
type LostError struct{ Err error }

func (e *LostError) Error() string { return fmt.Sprintf("connection lost: %v", e.Err) }
func (e *LostError) Unwrap() error { return e.Err }

// Session describes one remote command.
type Session struct {
	// Command is the remote command line, already quoted for the login shell.
	Command string
	// PTY requests a pseudo-terminal with TERM and the local window size.
	PTY  bool
	Term string
	// ForwardAgent forwards the local SSH agent.
	ForwardAgent bool
}

// Run runs s on c, streaming the terminal, and returns the remote exit
// status. The local terminal is in raw mode only while the session runs,
// and restored on every way out. A *LostError means the link dropped.
func (t *Terminal) Run(ctx context.Context, c *Client, s Session) (int, error) {
	t.once.Do(t.pump)
	sess, err := c.NewSession()
	if err != nil {
		return -1, &LostError{Err: err}
	}
	defer sess.Close()
	if s.ForwardAgent {
		if err := c.ForwardAgent(sess); err != nil {
			fmt.Fprintf(t.Err, "sysvm: warning: agent forwarding: %v\r\n", err)
		}
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return -1, &LostError{Err: err}
	}
	sess.Stdout, sess.Stderr = t.Out, t.Err
	if s.PTY {
		w, h := t.Size()
		termName := s.Term
		if termName == "" {
			termName = "xterm-256color"
		}
		if err := sess.RequestPty(termName, h, w, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
			return -1, &LostError{Err: err}
		}
		if fd := int(t.In.Fd()); term.IsTerminal(fd) {
			old, err := term.MakeRaw(fd)
			if err != nil {
				return -1, fmt.Errorf("putting the terminal in raw mode: %w", err)
			}
			defer term.Restore(fd, old)
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				w, h := t.Size()
				_ = sess.WindowChange(h, w)
			}
		}()
	}
	if err := sess.Start(s.Command); err != nil {
		return -1, &LostError{Err: err}
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case b, ok := <-t.input:
				if !ok {
					stdin.Close()
					return
				}
				if _, err := stdin.Write(b); err != nil {
					return
				}
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Close()
		return -1, ctx.Err()
	}
	return exitStatus(err)
}

// exitStatus turns Session.Wait's error into an exit code or a LostError.
func exitStatus(err error) (int, error) {
	var ee *ssh.ExitError
	var em *ssh.ExitMissingError
	var ne net.Error
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		return ee.ExitStatus(), nil
	case errors.As(err, &em), errors.Is(err, io.EOF), errors.As(err, &ne), errors.Is(err, net.ErrClosed):
		return -1, &LostError{Err: err}
	}
	return -1, &LostError{Err: err}
}

// Output runs a command without a PTY, feeding it stdin, and returns its
// stdout, stderr and exit status.
func (c *Client) Output(ctx context.Context, command string, stdin []byte) (stdout, stderr []byte, code int, err error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, nil, -1, &LostError{Err: err}
	}
	defer sess.Close()
	var o, e bytesBuffer
	sess.Stdout, sess.Stderr = &o, &e
	if stdin != nil {
		sess.Stdin = bytes.NewReader(stdin)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Run(command) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		return nil, nil, -1, ctx.Err()
	}
	code, err = exitStatus(err)
	return o.Bytes(), e.Bytes(), code, err
}
