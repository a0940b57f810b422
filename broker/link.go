package broker

import (
	"bufio"
	"bytes"
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
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/sshx"
)

// link is a way to open channels to one VM: this process's own SSH
// connection, or the broker process's.
type link interface {
	NewChannel() (sshx.Channel, error)
	ForwardAgent() bool
	Close() error
}

// direct is this process's own connection.
type direct struct{ c *sshx.Client }

func (d direct) NewChannel() (sshx.Channel, error) { return d.c.NewChannel() }
func (d direct) ForwardAgent() bool                { return d.c.Config.ForwardAgent }
func (d direct) Close() error                      { return d.c.Close() }

// viaDaemon opens channels through the broker process.
type viaDaemon struct {
	sock, vm, cfgPath string
	fwd               bool
}

func (v viaDaemon) ForwardAgent() bool { return v.fwd }
func (v viaDaemon) Close() error       { return nil }
func (v viaDaemon) NewChannel() (sshx.Channel, error) {
	return &daemonChannel{link: v}, nil
}

// daemonChannel is one session relayed by the broker process.
type daemonChannel struct {
	link viaDaemon
	conn net.Conn
	fw   *frameWriter
	done chan struct{}
	code int
	err  error
}

func (ch *daemonChannel) Start(cmd string, pty *sshx.PTY, authSock string, stdout, stderr io.Writer) (io.WriteCloser, error) {
	conn, err := net.DialTimeout("unix", ch.link.sock, 2*time.Second)
	if err != nil {
		return nil, &sshx.LostError{Err: fmt.Errorf("the sysvm broker is gone: %w", err)}
	}
	req := request{Op: "session", VM: ch.link.vm, SSHConfig: ch.link.cfgPath, Command: cmd, AuthSock: authSock}
	if pty != nil {
		req.PTY = &ptyRequest{Term: pty.Term, Rows: pty.Rows, Cols: pty.Cols}
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	var rep reply
	if err := writeJSONLine(conn, req); err == nil {
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
	go func() {
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
	}()
	return stdinFrames{ch.fw}, nil
}

type stdinFrames struct{ fw *frameWriter }

func (s stdinFrames) Write(p []byte) (int, error) {
	if err := s.fw.write(frameStdin, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s stdinFrames) Close() error { return s.fw.write(frameEOF, nil) }

func (ch *daemonChannel) WindowChange(rows, cols int) error {
	return ch.fw.write(frameResize, u32pair(rows, cols))
}

func (ch *daemonChannel) Wait() (int, error) {
	<-ch.done
	return ch.code, ch.err
}

func (ch *daemonChannel) Close() error {
	if ch.conn != nil {
		return ch.conn.Close()
	}
	return nil
}

// err rebuilds the error types the CLI turns into hints.
func (r reply) err() error {
	msg := errors.New(r.Error)
	switch r.Kind {
	case "hostkey":
		if r.Key != nil {
			return &sshx.HostKeyChangedError{VM: r.Key.VM, WantFP: r.Key.WantFP, GotFP: r.Key.GotFP}
		}
	case "unreachable":
		return &sshx.UnreachableError{Addr: "the VM's SSH port", Err: msg}
	case "config":
		return &sshx.ConfigError{Path: "ssh.config", Err: msg}
	case "key":
		return &sshx.KeyError{Path: "the VM's SSH key", Err: msg}
	case "config-missing":
		return &sshx.ConfigError{Path: "ssh.config", Err: fmt.Errorf("%v: %w", msg, os.ErrNotExist)}
	}
	return msg
}

// daemonRequest sends one request and reads the reply.
func daemonRequest(sock string, req request, timeout time.Duration) (reply, error) {
	conn, err := net.DialTimeout("unix", sock, timeout)
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

// daemonMu makes one process spawn at most one broker at a time.
var daemonMu sync.Mutex

// ensureDaemon returns the broker's socket, starting the broker when none
// answers. The broker's own lock keeps it to one per user however many
// shells start one at once.
func (b *Broker) ensureDaemon() (string, error) {
	sock := b.Socket
	if _, err := daemonRequest(sock, request{Op: "ping"}, time.Second); err == nil {
		return sock, nil
	}
	daemonMu.Lock()
	defer daemonMu.Unlock()
	if err := b.spawnDaemon(); err != nil {
		return "", err
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		rep, err := daemonRequest(sock, request{Op: "ping"}, time.Second)
		if err == nil && rep.OK {
			return sock, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the sysvm broker did not answer on %s: %v", sock, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// spawnDaemon starts `sysvm broker serve` in its own session, detached from
// the terminal, with its output in the state directory's log.
func (b *Broker) spawnDaemon() error {
	self := b.Self
	if self == "" {
		return errors.New("no sysvm executable to start the broker with")
	}
	if err := os.MkdirAll(filepath.Dir(b.Socket), 0o700); err != nil {
		return err
	}
	logs, err := b.State.MkdirAll("logs")
	if err != nil {
		return err
	}
	p, err := detach.Start([]string{self, "broker", "serve"}, "/", filepath.Join(logs, "broker.log"), false)
	if err != nil {
		return err
	}
	// Reap it if it exits at once (another broker won the lock).
	go func() { _, _ = p.Wait() }()
	return nil
}

// DaemonStatus asks a running broker what it knows; ok is false when no
// broker runs.
func (b *Broker) DaemonStatus() ([]VMStatus, bool) {
	if b.Socket == "" {
		return nil, false
	}
	rep, err := daemonRequest(b.Socket, request{Op: "status"}, time.Second)
	if err != nil || !rep.OK {
		return nil, false
	}
	return rep.VMs, true
}

// quickLink is the warm path: the broker's connection (asked for nothing
// until the session itself) or a direct dial, to the VM whose instance
// directory is dir, with no limactl in between.
func (b *Broker) quickLink(ctx context.Context, dir string) (link, error) {
	cfgPath := filepath.Join(dir, "ssh.config")
	cfg, err := sshx.ReadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	if b.Socket != "" {
		if _, err := os.Stat(b.Socket); err == nil {
			return viaDaemon{sock: b.Socket, vm: filepath.Base(dir), cfgPath: cfgPath, fwd: cfg.ForwardAgent}, nil
		}
	}
	return b.openLink(ctx, &lima.Instance{Name: filepath.Base(dir), Dir: dir, SSHConfigFile: cfgPath})
}

// openLink connects to a running VM: through the broker process when it is
// enabled and can be reached, else with a connection of this process's own.
func (b *Broker) openLink(ctx context.Context, inst *lima.Instance) (link, error) {
	cfgPath := inst.SSHConfigFile
	if cfgPath == "" {
		cfgPath = filepath.Join(inst.Dir, "ssh.config")
	}
	if b.Socket != "" {
		sock, err := b.ensureDaemon()
		if err == nil {
			rep, rerr := daemonRequest(sock, request{Op: "connect", VM: inst.Name, SSHConfig: cfgPath}, 30*time.Second)
			switch {
			case rerr != nil:
				err = rerr
			case !rep.OK:
				return nil, rep.err()
			default:
				cfg, _ := sshx.ReadConfig(cfgPath)
				return viaDaemon{sock: sock, vm: inst.Name, cfgPath: cfgPath, fwd: cfg != nil && cfg.ForwardAgent}, nil
			}
		}
		b.fallbackOnce.Do(func() {
			if b.Log != nil {
				b.Log.Debug("broker unavailable; dialing directly", "err", err)
			}
		})
	}
	c, err := b.dialOnce(ctx, inst)
	if err != nil {
		return nil, err
	}
	return direct{c}, nil
}

// output runs a command without a PTY on l, feeding it stdin, and returns
// its stdout, stderr and exit status.
func output(ctx context.Context, l link, cmd string, stdin []byte) ([]byte, []byte, int, error) {
	ch, err := l.NewChannel()
	if err != nil {
		return nil, nil, -1, err
	}
	defer ch.Close()
	var o, e syncBuffer
	in, err := ch.Start(cmd, nil, "", &o, &e)
	if err != nil {
		return nil, nil, -1, err
	}
	if len(stdin) > 0 {
		if _, err := in.Write(stdin); err != nil {
			return nil, nil, -1, &sshx.LostError{Err: err}
		}
	}
	in.Close()
	type res struct {
		code int
		err  error
	}
	done := make(chan res, 1)
	go func() {
		c, err := ch.Wait()
		done <- res{c, err}
	}()
	select {
	case r := <-done:
		return o.Bytes(), e.Bytes(), r.code, r.err
	case <-ctx.Done():
		return nil, nil, -1, ctx.Err()
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}
