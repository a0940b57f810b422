package lima

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What a host crash leaves in an instance directory: the pid files of the
// host agent and the driver, perhaps naming a pid another program has
// since been given, and sockets nobody listens on. This is the reading
// half of crash recovery; what to do about it is the caller's decision.

// PIDFile is one of an instance's pid files and what its pid is now.
type PIDFile struct {
	Path string
	PID  int
	// Alive: the pid exists. Own: its command line names the instance's
	// directory, as Lima's host agent (--pidfile DIR/ha.pid) and QEMU
	// (-pidfile DIR/qemu.pid) always do.
	Alive, Own bool
	// Cmd is the process's command name, for messages.
	Cmd string
}

// PIDFiles reads the instance's host agent and driver pid files; missing
// or unreadable files are left out.
func (i *Instance) PIDFiles() []PIDFile {
	driver := i.VMType
	if driver == "" {
		driver = "qemu"
	}
	var out []PIDFile
	for _, name := range []string{haPIDFile, driver + ".pid"} {
		path := filepath.Join(i.Dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		pf := PIDFile{Path: path, PID: pid, Alive: alive(pid)}
		if pf.Alive {
			argv, _ := processArgs(pid)
			pf.Own = namesDir(argv, i.Dir)
			if len(argv) > 0 {
				pf.Cmd = filepath.Base(argv[0])
			}
		}
		out = append(out, pf)
	}
	return out
}

// alive is Lima's liveness test: signal 0 succeeds, or fails with EPERM.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// namesDir reports whether an argument is a path inside dir.
func namesDir(argv []string, dir string) bool {
	prefix := filepath.Clean(dir) + string(filepath.Separator)
	for _, a := range argv {
		if strings.Contains(a, prefix) {
			return true
		}
	}
	return false
}

// DeadSockets lists the names of the instance's sockets nobody listens on.
func (i *Instance) DeadSockets() []string {
	var out []string
	for _, name := range sockets {
		path := filepath.Join(i.Dir, name)
		if _, err := os.Lstat(path); err != nil {
			continue
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			continue
		}
		out = append(out, name)
	}
	return out
}

// HostAgentRunning reports whether the instance's host agent runs: its pid
// file names a live process whose command line names the instance's
// directory. It is the cheap check that the instance's ssh.config is from
// the running boot, before anything trusts the port it names.
func (i *Instance) HostAgentRunning() bool {
	b, err := os.ReadFile(filepath.Join(i.Dir, haPIDFile))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !alive(pid) {
		return false
	}
	argv, _ := processArgs(pid)
	return namesDir(argv, i.Dir)
}
