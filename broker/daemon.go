// Package broker is the per-user broker process and its client. The
// process (`sysvm broker serve`, [Daemon]) keeps one authenticated SSH
// connection per running VM and opens a channel on it for each attach or
// shell, so entering a project costs a channel, not a handshake. It
// listens on a unix socket (mode 0600 in a 0700 directory) and serves only
// peers of its own uid, checked with the kernel's peer credentials.
//
// The wire protocol (wire.go): a client sends one JSON request line and
// reads one JSON reply line; a session then exchanges typed,
// length-prefixed frames. [Client] starts the process when none answers,
// asks for connections, relays sessions and stops it.
//
// It never runs limactl or reads a project itself (idle stop, idle.go, is
// handed the VM lifecycle by its caller), and never prints to a terminal:
// its own output is its log.
package broker

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/state"
)

// Daemon is the per-user broker process: it keeps one authenticated SSH
// connection per running VM and opens a channel on it for each attach or
// shell, so entering a project costs a channel, not a handshake.
type Daemon struct {
	State state.Dir
	// Socket is the unix socket to listen on.
	Socket string
	// Idle is how long the daemon stays with no client before it exits.
	Idle time.Duration
	Log  *slog.Logger
	// IdleStop, when set, stops VMs nobody uses (idle.go); the daemon
	// does not exit while it may yet stop one.
	IdleStop *IdleStop

	mu         sync.Mutex
	stop       context.CancelFunc
	vms        map[string]*vmLink
	active     int
	lastActive time.Time
}

// ErrDaemonRunning means another broker process holds the socket.
var ErrDaemonRunning = errors.New("a sysvm broker is already running")

// SocketPath returns where the broker listens: $XDG_RUNTIME_DIR/sysvm, or
// sysvm's state directory when that is unset.
func SocketPath(getenv func(string) string, sd state.Dir) string {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "sysvm", "broker.sock")
	}
	return sd.Path("run", "broker.sock")
}

// Serve listens until the daemon has been idle for d.Idle or ctx ends.
// Only one daemon runs per socket: a second one returns ErrDaemonRunning.
func (d *Daemon) Serve(ctx context.Context) error {
	dir := filepath.Dir(d.Socket)
	_ = os.MkdirAll(dir, 0o700) // checkDir says what is wrong if it failed
	if why := checkDir(dir); why != "" {
		return hint.Wrap(fmt.Errorf("refusing to listen on %s: %s", d.Socket, why),
			"point XDG_RUNTIME_DIR at a directory only you can use, or remove "+dir+" if it is a stale leftover of yours")
	}
	lockf, err := os.OpenFile(d.Socket+".lock", os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	defer lockf.Close()
	if err := syscall.Flock(int(lockf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return ErrDaemonRunning
	}
	// We hold the lock, so a socket file left here is a crashed broker's.
	_ = os.Remove(d.Socket)
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", d.Socket)
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", d.Socket, err)
	}
	defer os.Remove(d.Socket)
	if err := os.Chmod(d.Socket, 0o600); err != nil {
		l.Close()
		return err
	}
	// One thread runs the broker's goroutines unless GOMAXPROCS says
	// otherwise: a session's output arrives as a stream of small SSH
	// packets, and each one passes through three goroutines (x/crypto's
	// reader and demultiplexer, then the copy into the client's file).
	// With one P those hand-offs are plain goroutine switches; with more,
	// each packet wakes idle threads that spin and sleep again, which
	// cost the broker 15–29 % more CPU per byte in the lab
	// (docs/bench.md). One core decrypts AES-GCM far faster than any
	// terminal or pipe reads; streams from several VMs at once share it.
	if os.Getenv("GOMAXPROCS") == "" {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	// x/crypto hands every SSH packet over in a fresh buffer, so 100 MiB
	// of output is 100 MiB of short-lived garbage, and with Go's default
	// GOGC the broker's small heap is collected every few MiB. Collecting
	// at five times the live heap instead, capped by a soft limit of
	// 16 MiB of Go memory, took about 6 % off the broker's CPU per byte
	// of terminal output in the lab (11–15 % without the cap) and keeps its
	// peak RSS at 22 MiB after 100 MiB of output (docs/bench.md). GOGC
	// and GOMEMLIMIT still override both.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(16 << 20))
	}
	d.vms = map[string]*vmLink{}
	d.lastActive = time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	d.stop = cancel
	d.mu.Unlock()
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	go d.idleWatch(ctx, cancel)
	if d.IdleStop != nil {
		go d.IdleStop.run(ctx, d)
	}
	d.logf("broker listening", "socket", d.Socket, "pid", os.Getpid(), "idle", d.Idle)
	var wg sync.WaitGroup
	for {
		conn, err := l.Accept()
		if err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.handle(ctx, conn.(*net.UnixConn))
		}()
	}
	d.mu.Lock()
	for _, v := range d.vms {
		v.mu.Lock()
		v.closeAll()
		v.mu.Unlock()
	}
	d.mu.Unlock()
	d.logf("broker exiting")
	return nil
}

func (d *Daemon) logf(msg string, args ...any) {
	if d.Log != nil {
		d.Log.Info(msg, args...)
	}
}

// idleWatch stops the daemon after Idle with no client.
func (d *Daemon) idleWatch(ctx context.Context, stop func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.mu.Lock()
		idle := d.active == 0 && time.Since(d.lastActive) >= d.Idle
		d.mu.Unlock()
		idle = idle && !d.IdleStop.Pending()
		if idle {
			stop()
			return
		}
	}
}

func (d *Daemon) begin() {
	d.mu.Lock()
	d.active++
	d.mu.Unlock()
}

func (d *Daemon) end() {
	d.mu.Lock()
	d.active--
	d.lastActive = time.Now()
	d.mu.Unlock()
}

// requestTimeout bounds how long a client may take to send its request
// (a variable for tests).
var requestTimeout = 5 * time.Second

func (d *Daemon) handle(ctx context.Context, conn *net.UnixConn) {
	defer conn.Close()
	fr := newFDReader(conn)
	defer func() { closeFDs(fr.take()) }()
	r := bufio.NewReaderSize(fr, maxRequest)
	if uid, err := peerUID(conn); err != nil || uid != os.Getuid() {
		_ = writeJSONLine(conn, reply{Error: "permission denied: the sysvm broker serves only its own user"})
		d.logf("refused a connection from another user", "uid", uid, "err", err)
		return
	}
	_ = conn.SetReadDeadline(time.Now().Add(requestTimeout))
	var req request
	if err := readRequest(r, &req); err != nil {
		d.logf("dropped a client", "err", err)
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	// A client counts as active from its request on, not while it is
	// silent: a silent one must not keep the broker from idling out.
	d.begin()
	defer d.end()
	if req.State != "" && req.State != string(d.State) {
		_ = writeJSONLine(conn, reply{Error: fmt.Sprintf("this broker uses the state directory %s, not %s", d.State, req.State)})
		return
	}
	switch req.Op {
	case "ping":
		_ = writeJSONLine(conn, reply{OK: true, PID: os.Getpid(), State: string(d.State)})
	case "status":
		_ = writeJSONLine(conn, reply{OK: true, PID: os.Getpid(), VMs: d.status()})
	case "connect":
		_, err := d.link(ctx, req.VM, req.SSHConfig)
		_ = writeJSONLine(conn, errReply(err))
	case "session":
		var out []*os.File
		if fds := fr.take(); req.FDs && len(fds) == 2 {
			out = []*os.File{os.NewFile(uintptr(fds[0]), "client-stdout"), os.NewFile(uintptr(fds[1]), "client-stderr")}
			defer out[0].Close()
			defer out[1].Close()
		} else {
			closeFDs(fds)
		}
		d.session(ctx, conn, r, req, out)
	case "stop":
		_ = writeJSONLine(conn, reply{OK: true, PID: os.Getpid()})
		d.logf("stopping on request")
		d.mu.Lock()
		d.stop()
		d.mu.Unlock()
	default:
		_ = writeJSONLine(conn, reply{Error: fmt.Sprintf("unknown request %q", req.Op)})
	}
}

// errReply answers with err, carrying its sshx kind so the client can
// rebuild the same error type.
func errReply(err error) reply {
	if err == nil {
		return reply{OK: true}
	}
	rep := reply{Error: err.Error(), Kind: sshx.KindOf(err)}
	var hk *sshx.HostKeyChangedError
	if errors.As(err, &hk) {
		rep.Key = &hostKeyErr{VM: hk.VM, WantFP: hk.WantFP, GotFP: hk.GotFP, Console: hk.Console}
	}
	return rep
}

// err rebuilds the error a reply carries; nil for a success.
func (r reply) err() error {
	if r.OK {
		return nil
	}
	var hk *sshx.HostKeyChangedError
	if r.Key != nil {
		hk = &sshx.HostKeyChangedError{VM: r.Key.VM, WantFP: r.Key.WantFP, GotFP: r.Key.GotFP, Console: r.Key.Console}
	}
	return sshx.Rebuild(r.Kind, r.Error, hk)
}

func fileStamp(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d-%d", st.ModTime().UnixNano(), st.Size())
}

// link returns vm's connections with at least one live, dialing when there
// is none, and closing them all when Lima rewrote ssh.config (a restart
// picks a new port).
func (d *Daemon) link(ctx context.Context, vm, cfgPath string) (*vmLink, error) {
	d.mu.Lock()
	v := d.vms[vm]
	if v == nil {
		v = &vmLink{}
		d.vms[vm] = v
	}
	d.mu.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	if stamp := fileStamp(cfgPath); v.cfgPath != cfgPath || v.cfgStamp != stamp {
		v.closeAll()
		v.cfgPath, v.cfgStamp = cfgPath, stamp
	}
	v.prune()
	if len(v.conns) > 0 {
		return v, nil
	}
	if _, err := d.dial(ctx, v, vm); err != nil {
		return nil, err
	}
	return v, nil
}

func (d *Daemon) status() []VMStatus {
	d.mu.Lock()
	names := make([]string, 0, len(d.vms))
	for n := range d.vms {
		names = append(names, n)
	}
	d.mu.Unlock()
	sort.Strings(names)
	var out []VMStatus
	for _, n := range names {
		d.mu.Lock()
		v := d.vms[n]
		d.mu.Unlock()
		connected, since := v.live()
		v.mu.Lock()
		s := VMStatus{VM: n, Connected: connected, Clients: v.clients}
		if s.Connected {
			s.Since = since.Format(time.RFC3339)
		}
		if v.clients == 0 && !v.idleSince.IsZero() {
			s.IdleSince = v.idleSince.Format(time.RFC3339)
		}
		v.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// session opens a channel to the VM and relays it to the client until the
// command ends or either side goes away.
//
// With out (the client's stdout and stderr, passed with the request), the
// command's output goes straight into them, without a hop through the
// client; the client's leaving stops those writes (a write already under
// way finishes). A write that fails (the reader of a pipe went away) ends
// the command and reports 141, the status of a command killed by SIGPIPE,
// which is what the client itself would have died of.
func (d *Daemon) session(ctx context.Context, conn *net.UnixConn, r *bufio.Reader, req request, out []*os.File) {
	v, ch, release, err := d.channel(ctx, req.VM, req.SSHConfig, req.AuthSock)
	if err != nil {
		_ = writeJSONLine(conn, errReply(err))
		return
	}
	defer release()
	defer ch.Close()
	v.mu.Lock()
	v.clients++
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.clients--
		if v.clients == 0 {
			v.idleSince = time.Now()
		}
		v.mu.Unlock()
	}()
	fw := &frameWriter{w: conn}
	var pty *sshx.PTY
	if req.PTY != nil {
		pty = &sshx.PTY{Term: req.PTY.Term, Rows: req.PTY.Rows, Cols: req.PTY.Cols}
	}
	var stdout, stderr io.Writer = streamWriter{fw, frameStdout}, streamWriter{fw, frameStderr}
	var gone, broken atomic.Bool
	if out != nil {
		stdout = &clientFile{f: out[0], gone: &gone, broken: &broken, ch: ch}
		stderr = &clientFile{f: out[1], gone: &gone, broken: &broken, ch: ch}
	}
	stdin, err := ch.Start(req.Command, pty, req.AuthSock, stdout, stderr)
	if err != nil {
		_ = writeJSONLine(conn, errReply(err))
		return
	}
	if err := writeJSONLine(conn, reply{OK: true}); err != nil {
		return
	}
	clientGone := make(chan struct{})
	go func() {
		defer close(clientGone)
		buf := make([]byte, 0, 32<<10)
		for {
			typ, p, err := readFrame(r, buf)
			if err != nil {
				return
			}
			switch typ {
			case frameStdin:
				if _, err := stdin.Write(p); err != nil {
					return
				}
			case frameEOF:
				stdin.Close()
			case frameResize:
				if rows, cols, err := fromU32pair(p); err == nil {
					_ = ch.WindowChange(rows, cols)
				}
			}
		}
	}()
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
	case res := <-done:
		if broken.Load() {
			res = result{code: 141}
		}
		if res.err != nil {
			_ = fw.write(frameLost, []byte(res.err.Error()))
		} else {
			_ = fw.write(frameExit, binary.BigEndian.AppendUint32(nil, uint32(int32(res.code))))
		}
		_ = conn.CloseWrite()
		// Let the client read the status before the socket closes.
		select {
		case <-clientGone:
		case <-time.After(2 * time.Second):
		}
	case <-clientGone:
		gone.Store(true)
		// The client left (detached terminal, Ctrl-C, crash): end the
		// channel; a Zellij client then detaches and the session lives on.
	}
}

// clientFile is a client's stdout or stderr, written by the broker itself.
type clientFile struct {
	f            *os.File
	gone, broken *atomic.Bool
	ch           sshx.Channel
}

// Write writes p unless the client left; after a failed write it ends the
// command and discards the rest, so the channel keeps draining.
func (c *clientFile) Write(p []byte) (int, error) {
	if c.gone.Load() || c.broken.Load() {
		return len(p), nil
	}
	if _, err := c.f.Write(p); err != nil {
		if !c.broken.Swap(true) {
			_ = c.ch.Close()
		}
	}
	return len(p), nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}
