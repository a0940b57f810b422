package broker

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sysvm/sysvm/detach"
	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/state"
)

// Client talks to the user's broker process, starting it when none runs.
type Client struct {
	// Socket is where the broker listens (see SocketPath).
	Socket string
	// Self is the sysvm executable to start the broker with; empty means
	// never start one.
	Self string
	// State holds the broker's log.
	State state.Dir

	spawnMu sync.Mutex
}

// Running reports whether a broker's socket exists in a directory only the
// user controls, without asking it anything: the warm path's cheapest
// check. The listener's identity is checked when a channel starts.
func (c *Client) Running() bool {
	if checkDir(filepath.Dir(c.Socket)) != "" {
		return false
	}
	_, err := os.Stat(c.Socket)
	return err == nil
}

// Connect makes sure the broker runs and holds a live connection to vm,
// dialing with the ssh.config at cfgPath. Errors of the sshx kinds come
// back as the same types.
// A broker that cannot be started or reached is an *UnavailableError.
func (c *Client) Connect(ctx context.Context, vm, cfgPath string) error {
	if err := c.ensure(); err != nil {
		return &UnavailableError{Err: err}
	}
	rep, err := c.request(request{Op: "connect", VM: vm, SSHConfig: cfgPath, State: string(c.State)}, 30*time.Second)
	if err != nil {
		return &UnavailableError{Err: fmt.Errorf("asking it to connect to %s: %w", vm, err)}
	}
	return rep.err()
}

// UnavailableError means the broker could not be started or reached; the
// caller may dial the VM itself instead.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "the sysvm broker is unavailable: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Channel returns a channel to vm relayed by the broker. Nothing is sent
// until the channel starts; a broker that is gone then is a lost link.
func (c *Client) Channel(vm, cfgPath string) sshx.Channel {
	return &channel{sock: c.Socket, state: string(c.State), vm: vm, cfgPath: cfgPath}
}

// Status asks a running broker what it knows; ok is false when no broker
// runs.
func (c *Client) Status() ([]VMStatus, bool) {
	rep, err := c.request(request{Op: "status"}, time.Second)
	if err != nil || !rep.OK {
		return nil, false
	}
	return rep.VMs, true
}

// ErrNotRunning means no broker answers on the socket.
var ErrNotRunning = errors.New("no sysvm broker is running")

// Stop asks the broker to close its connections and exit, and returns its
// pid. Sessions it relays end as if the link dropped.
func (c *Client) Stop() (int, error) {
	rep, err := c.request(request{Op: "stop"}, 2*time.Second)
	if err != nil {
		return 0, ErrNotRunning
	}
	if !rep.OK {
		return 0, rep.err()
	}
	return rep.PID, nil
}

// request sends one request and reads the reply; nothing is sent to a
// listener that is not the user's own (an *UntrustedError).
func (c *Client) request(req request, timeout time.Duration) (reply, error) {
	conn, err := dialTrusted(c.Socket, timeout)
	if err != nil {
		return reply{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	var rep reply
	if err := writeJSONLine(conn, req); err != nil {
		return reply{}, err
	}
	if err := readJSONLine(bufio.NewReader(conn), &rep); err != nil {
		return reply{}, err
	}
	return rep, nil
}

// ensure starts the broker when none answers. The broker's own lock keeps
// it to one per user however many shells start one at once.
func (c *Client) ensure() error {
	rep, err := c.request(request{Op: "ping"}, time.Second)
	if err == nil {
		return c.sameState(rep)
	}
	if errors.As(err, new(*UntrustedError)) {
		return err
	}
	c.spawnMu.Lock()
	defer c.spawnMu.Unlock()
	if err := c.spawn(); err != nil {
		return err
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		rep, err := c.request(request{Op: "ping"}, time.Second)
		if err == nil && rep.OK {
			return c.sameState(rep)
		}
		if errors.As(err, new(*UntrustedError)) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the sysvm broker did not answer on %s: %v", c.Socket, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameState refuses a broker that keeps its pins and logs in another state
// directory than this client's (started with another SYSVM_STATE_DIR).
func (c *Client) sameState(rep reply) error {
	if c.State == "" || rep.State == "" || rep.State == string(c.State) {
		return nil
	}
	return fmt.Errorf("the broker on %s (pid %d) uses the state directory %s, not %s", c.Socket, rep.PID, rep.State, c.State)
}

// spawn starts `sysvm broker serve` in its own session, detached from the
// terminal, with its output in the state directory's log. It names the
// state directory and socket itself, so the broker never derives other
// ones from its environment.
func (c *Client) spawn() error {
	if c.Self == "" {
		return errors.New("no sysvm executable to start the broker with")
	}
	if err := os.MkdirAll(filepath.Dir(c.Socket), 0o700); err != nil {
		return err
	}
	logs, err := c.State.MkdirAll("logs")
	if err != nil {
		return err
	}
	argv := []string{c.Self, "broker", "serve", "--socket", c.Socket}
	if c.State != "" {
		argv = append(argv, "--state-dir", string(c.State))
	}
	p, err := detach.Start(argv, "/", filepath.Join(logs, "broker.log"), false)
	if err != nil {
		return err
	}
	// Reap it if it exits at once (another broker won the lock).
	go func() { _, _ = p.Wait() }()
	return nil
}

// noFDs turns off passing stdout and stderr to the broker
// (SYSVM_BROKER_FDS=0): every byte of output is then relayed in frames.
var noFDs = os.Getenv("SYSVM_BROKER_FDS") == "0"

// channel is one session relayed by the broker process.
type channel struct {
	sock, state, vm, cfgPath string

	conn net.Conn
	fw   *frameWriter
	done chan struct{}
	code int
	err  error
}

func (ch *channel) Start(cmd string, pty *sshx.PTY, authSock string, stdout, stderr io.Writer) (io.WriteCloser, error) {
	conn, err := dialTrusted(ch.sock, 2*time.Second)
	if err != nil {
		return nil, &sshx.LostError{Err: fmt.Errorf("the sysvm broker is gone: %w", err)}
	}
	req := request{Op: "session", VM: ch.vm, SSHConfig: ch.cfgPath, State: ch.state, Command: cmd, AuthSock: authSock}
	if pty != nil {
		req.PTY = &ptyRequest{Term: pty.Term, Rows: pty.Rows, Cols: pty.Cols}
	}
	// Output into files is written by the broker itself (see request.FDs).
	outF, ok1 := stdout.(*os.File)
	errF, ok2 := stderr.(*os.File)
	var files []*os.File
	if ok1 && ok2 && !noFDs {
		req.FDs, files = true, []*os.File{outF, errF}
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	var rep reply
	err = writeJSONLineFDs(conn, req, files...)
	if err == nil {
		err = readJSONLine(r, &rep)
	}
	if err != nil {
		conn.Close()
		return nil, &sshx.LostError{Err: fmt.Errorf("talking to the sysvm broker: %w", err)}
	}
	if !rep.OK {
		conn.Close()
		if rep.Kind == "" {
			// Opening the channel failed on a connection the broker thought
			// alive: treat it as a dropped link, so callers reconnect.
			return nil, &sshx.LostError{Err: errors.New(rep.Error)}
		}
		return nil, rep.err()
	}
	ch.conn, ch.fw, ch.done = conn, &frameWriter{w: conn}, make(chan struct{})
	go ch.read(r, stdout, stderr)
	return stdinFrames{ch.fw}, nil
}

// read copies the broker's frames to stdout and stderr until the exit
// status or the end of the link.
func (ch *channel) read(r *bufio.Reader, stdout, stderr io.Writer) {
	defer close(ch.done)
	buf := make([]byte, 0, 32<<10)
	for {
		typ, p, err := readFrame(r, buf)
		if err != nil {
			ch.code, ch.err = -1, &sshx.LostError{Err: fmt.Errorf("the sysvm broker went away: %w", err)}
			return
		}
		switch typ {
		case frameStdout:
			_, _ = stdout.Write(p)
		case frameStderr:
			_, _ = stderr.Write(p)
		case frameExit:
			if len(p) == 4 {
				ch.code = int(int32(binary.BigEndian.Uint32(p)))
			}
			return
		case frameLost:
			ch.code, ch.err = -1, &sshx.LostError{Err: errors.New(string(p))}
			return
		}
	}
}

type stdinFrames struct{ fw *frameWriter }

func (s stdinFrames) Write(p []byte) (int, error) {
	if err := s.fw.write(frameStdin, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s stdinFrames) Close() error { return s.fw.write(frameEOF, nil) }

func (ch *channel) WindowChange(rows, cols int) error {
	return ch.fw.write(frameResize, u32pair(rows, cols))
}

func (ch *channel) Wait() (int, error) {
	<-ch.done
	return ch.code, ch.err
}

func (ch *channel) Close() error {
	if ch.conn != nil {
		return ch.conn.Close()
	}
	return nil
}
