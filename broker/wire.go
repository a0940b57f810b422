package broker

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/sysvm/sysvm/sshx"
)

// The broker process and its clients talk over a unix socket. A client
// sends one JSON request line and reads one JSON reply line; for a session,
// both sides then exchange frames: a type byte, a big-endian uint32 length
// and the payload.
const (
	frameStdin  = 'i' // client → broker: stdin bytes
	frameEOF    = 'e' // client → broker: stdin closed
	frameResize = 'w' // client → broker: rows, cols (uint32 each)
	frameStdout = 'o' // broker → client: stdout bytes
	frameStderr = 'x' // broker → client: stderr bytes
	frameExit   = 's' // broker → client: exit status (int32)
	frameLost   = 'l' // broker → client: the SSH link dropped (message)
)

// maxFrame bounds one frame's payload.
const maxFrame = 1 << 20

// request is what a client asks of the broker.
type request struct {
	Op string `json:"op"` // "ping", "status", "connect", "session", "stop"
	// VM is the Lima instance name; SSHConfig the ssh.config Lima wrote.
	VM        string `json:"vm,omitempty"`
	SSHConfig string `json:"sshConfig,omitempty"`
	Command   string `json:"command,omitempty"`
	// PTY, if set, requests a pseudo-terminal.
	PTY *ptyRequest `json:"pty,omitempty"`
	// AuthSock is the client's SSH agent, forwarded when set.
	AuthSock string `json:"authSock,omitempty"`
	// State is the client's state directory; the broker serves only
	// clients of its own.
	State string `json:"state,omitempty"`
	// FDs says the request line carries the client's stdout and stderr
	// (SCM_RIGHTS): the broker writes the command's output into them
	// itself, as OpenSSH's ControlMaster does, instead of relaying it in
	// frames through the client. Frames still carry stdin, resizes and
	// the exit status.
	FDs bool `json:"fds,omitempty"`
}

type ptyRequest struct {
	Term string `json:"term"`
	Rows int    `json:"rows"`
	Cols int    `json:"cols"`
}

// reply answers a request. For errors, Kind says which of sysvm's error
// types to rebuild on the client side.
type reply struct {
	OK    bool        `json:"ok"`
	Error string      `json:"error,omitempty"`
	Kind  sshx.Kind   `json:"kind,omitempty"` // which sshx error type to rebuild
	VMs   []VMStatus  `json:"vms,omitempty"`
	PID   int         `json:"pid,omitempty"`
	State string      `json:"state,omitempty"` // the broker's state directory
	Key   *hostKeyErr `json:"hostKey,omitempty"`
}

type hostKeyErr struct {
	VM, WantFP, GotFP string
	Console           bool `json:",omitempty"`
}

// VMStatus is what the broker knows about one VM's connection.
type VMStatus struct {
	VM        string `json:"vm"`
	Connected bool   `json:"connected"`
	Clients   int    `json:"clients"`
	// Since is when the current connection was made, RFC 3339.
	Since string `json:"since,omitempty"`
	// IdleSince is when the last client left, RFC 3339; empty while used.
	IdleSince string `json:"idleSince,omitempty"`
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// maxRequest bounds a request line; the daemon's reader holds one whole.
const maxRequest = 64 << 10

// readRequest reads one request line of at most maxRequest bytes from r,
// whose buffer must be maxRequest bytes.
func readRequest(r *bufio.Reader, req *request) error {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("request line longer than %d bytes", maxRequest)
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(line, req)
}

// fdReader reads a unix socket keeping the file descriptors that arrive
// with the data (at most maxFDs; any more are closed at once).
type fdReader struct {
	c   *net.UnixConn
	oob []byte
	fds []int
}

const maxFDs = 2

func newFDReader(c *net.UnixConn) *fdReader {
	return &fdReader{c: c, oob: make([]byte, syscall.CmsgSpace(4*maxFDs))}
}

func (r *fdReader) Read(p []byte) (int, error) {
	n, oobn, _, _, err := r.c.ReadMsgUnix(p, r.oob)
	if n < 0 {
		n = 0
	}
	if oobn > 0 {
		msgs, _ := syscall.ParseSocketControlMessage(r.oob[:oobn])
		for _, m := range msgs {
			fds, _ := syscall.ParseUnixRights(&m)
			for _, fd := range fds {
				if len(r.fds) < maxFDs {
					r.fds = append(r.fds, fd)
				} else {
					syscall.Close(fd)
				}
			}
		}
	}
	return n, err
}

// take returns the descriptors received so far; the caller closes them.
func (r *fdReader) take() []int {
	fds := r.fds
	r.fds = nil
	return fds
}

// writeJSONLineFDs writes v as one line with files' descriptors attached.
func writeJSONLineFDs(c *net.UnixConn, v any, files ...*os.File) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return writeJSONLine(c, v)
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	b = append(b, '\n')
	n, _, err := c.WriteMsgUnix(b, syscall.UnixRights(fds...), nil)
	if err == nil && n < len(b) {
		_, err = c.Write(b[n:])
	}
	return err
}

func readJSONLine(r *bufio.Reader, v any) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
}

// frameWriter writes frames; safe for concurrent use.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (f *frameWriter) write(typ byte, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(payload) > maxFrame {
		if err := f.writeOne(typ, payload[:maxFrame]); err != nil {
			return err
		}
		payload = payload[maxFrame:]
	}
	return f.writeOne(typ, payload)
}

func (f *frameWriter) writeOne(typ byte, payload []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	// One writev for header and payload: half the syscalls of two writes.
	bufs := net.Buffers{hdr[:], payload}
	_, err := bufs.WriteTo(f.w)
	return err
}

// streamWriter turns writes into frames of one type.
type streamWriter struct {
	f   *frameWriter
	typ byte
}

func (s streamWriter) Write(p []byte) (int, error) {
	if err := s.f.write(s.typ, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func readFrame(r *bufio.Reader, buf []byte) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes is too large", n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return hdr[0], buf, nil
}

func u32pair(a, b int) []byte {
	var p [8]byte
	binary.BigEndian.PutUint32(p[:4], uint32(a))
	binary.BigEndian.PutUint32(p[4:], uint32(b))
	return p[:]
}

func fromU32pair(p []byte) (int, int, error) {
	if len(p) != 8 {
		return 0, 0, errors.New("bad resize frame")
	}
	return int(binary.BigEndian.Uint32(p[:4])), int(binary.BigEndian.Uint32(p[4:])), nil
}
