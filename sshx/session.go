package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/sysvm/sysvm/ui"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// Terminal is the local side of remote sessions: stdin, stdout, and the
// UI whose stderr receives theirs and sysvm's own lines. One Terminal
// serves every session of an attach, across reconnections, so that a
// single reader owns stdin and no keystroke goes to a dead session.
type Terminal struct {
	In  *os.File
	Out *os.File
	UI  *ui.UI

	once  sync.Once
	input chan []byte
}

// NewTerminal returns a Terminal on the given files and UI (not nil).
func NewTerminal(in, out *os.File, u *ui.UI) *Terminal {
	return &Terminal{In: in, Out: out, UI: u}
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

// Discard drops input typed while no session was attached (during a
// reconnection): keystrokes must not land in a session the user could not see.
func (t *Terminal) Discard() {
	t.once.Do(t.pump)
	for {
		select {
		case _, ok := <-t.input:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// NotStartedError means the remote command was never started, so running
// it again elsewhere cannot run it twice.
type NotStartedError struct{ Err error }

func (e *NotStartedError) Error() string { return e.Err.Error() }
func (e *NotStartedError) Unwrap() error { return e.Err }

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
	// AuthSock is the local agent's socket ($SSH_AUTH_SOCK).
	AuthSock string
	// Stdout receives the command's output; nil is the Terminal's Out.
	Stdout io.Writer
}

// PTY is a pseudo-terminal request.
type PTY struct {
	Term       string
	Rows, Cols int
}

// Channel is one remote command in flight: an SSH session on a connection
// of this process's own, or one relayed by the broker process.
type Channel interface {
	// Start starts cmd, with a PTY when pty is not nil, writing its output
	// to stdout and stderr; it returns the command's stdin.
	// authSock, when not empty, is the local agent to forward.
	Start(cmd string, pty *PTY, authSock string, stdout, stderr io.Writer) (io.WriteCloser, error)
	// WindowChange reports a new terminal size.
	WindowChange(rows, cols int) error
	// Wait returns the exit status, or a *LostError when the command
	// ended without one.
	Wait() (int, error)
	// Close abandons the command.
	Close() error
}

// Run runs s on ch, streaming the terminal, and returns the remote exit
// status. The local terminal is in raw mode only while the session runs,
// and restored on every way out. A *LostError means the link dropped.
func (t *Terminal) Run(ctx context.Context, ch Channel, s Session) (int, error) {
	t.once.Do(t.pump)
	defer ch.Close()
	var pty *PTY
	if s.PTY {
		w, h := t.Size()
		pty = &PTY{Term: s.Term, Rows: h, Cols: w}
		if pty.Term == "" {
			pty.Term = "xterm-256color"
		}
	}
	sock := ""
	if s.ForwardAgent {
		sock = s.AuthSock
		if sock == "" {
			t.UI.Warn("the VM forwards the SSH agent, but SSH_AUTH_SOCK is not set")
		}
	}
	var out io.Writer = t.Out
	if s.Stdout != nil {
		out = s.Stdout
	}
	stdin, err := ch.Start(s.Command, pty, sock, out, t.UI.ErrOut)
	if err != nil {
		return -1, &NotStartedError{Err: err}
	}
	// stop ends this session's goroutines: signal.Stop never closes winch.
	stop := make(chan struct{})
	defer close(stop)
	if s.PTY {
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
			for {
				select {
				case <-stop:
					return
				case <-winch:
					w, h := t.Size()
					_ = ch.WindowChange(h, w)
				}
			}
		}()
	}
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
	return Wait(ctx, ch)
}

// Wait returns ch's exit status (ch.Wait), or when ctx ends first closes
// ch and returns -1 and the context's cause.
func Wait(ctx context.Context, ch Channel) (int, error) {
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := ch.Wait()
		done <- result{code, err}
	}()
	select {
	case r := <-done:
		return r.code, r.err
	case <-ctx.Done():
		ch.Close()
		return -1, context.Cause(ctx)
	}
}

// NewChannel opens a session on the connection.
func (c *Client) NewChannel() (Channel, error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, &LostError{Err: err}
	}
	return &sshChannel{c: c, s: sess}, nil
}

type sshChannel struct {
	c *Client
	s *ssh.Session
}

func (ch *sshChannel) Start(cmd string, pty *PTY, authSock string, stdout, stderr io.Writer) (io.WriteCloser, error) {
	if authSock != "" {
		if err := ch.c.ForwardAgent(ch.s, authSock); err != nil {
			// stderr is the session's, which may reach the terminal in
			// raw mode (relayed by the broker process).
			(&ui.UI{ErrOut: stderr, CRLF: true}).Warn("agent forwarding: %v", err)
		}
	}
	stdin, err := ch.s.StdinPipe()
	if err != nil {
		return nil, &LostError{Err: err}
	}
	ch.s.Stdout, ch.s.Stderr = stdout, stderr
	if pty != nil {
		if err := ch.s.RequestPty(pty.Term, pty.Rows, pty.Cols, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
			return nil, &LostError{Err: err}
		}
	}
	if err := ch.s.Start(cmd); err != nil {
		return nil, &LostError{Err: err}
	}
	return stdin, nil
}

func (ch *sshChannel) WindowChange(rows, cols int) error { return ch.s.WindowChange(rows, cols) }
func (ch *sshChannel) Wait() (int, error)                { return exitStatus(ch.s.Wait()) }
func (ch *sshChannel) Close() error                      { return ch.s.Close() }

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
