package vm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sysvm/sysvm/lima"
)

// Recovery after a host crash. An unclean shutdown leaves an instance's
// pid files (ha.pid, <driver>.pid) and sockets (ha.sock, ssh.sock) behind.
// Lima reads a pid file whose process is gone as absent (and deletes it),
// but one whose pid now belongs to another program counts as alive, so
// `limactl list` says Broken and `limactl start` refuses — and `limactl
// stop -f`, Lima's own repair, SIGKILLs whatever the pid files name (Lima
// v2.2.0 pkg/instance/stop.go StopForcibly). So sysvm checks what each pid
// is before anything signals it: a file naming another program is removed
// by sysvm, and only then does `limactl stop -f` clear the rest.

// pidFile is one of an instance's pid files and what its pid is now.
type pidFile struct {
	Path string
	PID  int
	// Alive: the pid exists. Own: its command line names the instance's
	// directory, as Lima's host agent (--pidfile DIR/ha.pid) and QEMU
	// (-pidfile DIR/qemu.pid) always do.
	Alive, Own bool
	// Cmd is the process's command name, for messages.
	Cmd string
}

// pidFiles reads the instance's host agent and driver pid files; missing
// or unreadable files are left out.
func pidFiles(inst *lima.Instance) []pidFile {
	driver := inst.VMType
	if driver == "" {
		driver = "qemu"
	}
	var out []pidFile
	for _, name := range []string{"ha.pid", driver + ".pid"} {
		path := filepath.Join(inst.Dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		pf := pidFile{Path: path, PID: pid, Alive: alive(pid)}
		if pf.Alive {
			argv, _ := processArgs(pid)
			pf.Own = namesDir(argv, inst.Dir)
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

// deadSockets lists the instance's sockets nobody listens on.
func deadSockets(dir string) []string {
	var out []string
	for _, name := range []string{"ha.sock", "ssh.sock"} {
		path := filepath.Join(dir, name)
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

// recoverCrash repairs what an unclean shutdown left of a VM that is not
// running, before sysvm starts it. It never touches a VM one of whose
// processes still runs, and never signals a process that is not the VM's
// own. It returns the instance as Lima now sees it.
func (m *Manager) recoverCrash(ctx context.Context, inst *lima.Instance) (*lima.Instance, error) {
	if inst == nil || (inst.Status != lima.StatusStopped && inst.Status != lima.StatusBroken) || halfDeleted(inst) != nil {
		// Running, or a state Lima's stop -f cannot mend (an unreadable
		// lima.yaml): the usual errors explain those.
		return inst, nil
	}
	pids := pidFiles(inst)
	for _, pf := range pids {
		if pf.Alive && pf.Own {
			// A start under way, or a VM half alive: not a crash's
			// leftovers, and its processes are not sysvm's to kill.
			return inst, nil
		}
	}
	var did []string
	for _, pf := range pids {
		if !pf.Alive {
			continue
		}
		if err := os.Remove(pf.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("removing the stale pid file %s (pid %d is %s, not VM %s's): %w", pf.Path, pf.PID, describe(pf), inst.Name, err)
		}
		did = append(did, fmt.Sprintf("removed %s (its pid %d is now %s)", filepath.Base(pf.Path), pf.PID, describe(pf)))
	}
	socks := deadSockets(inst.Dir)
	if len(did) == 0 && len(socks) == 0 && inst.Status != lima.StatusBroken {
		return inst, nil
	}
	// Check once more right before Lima signals what the pid files name:
	// everything must be gone, or someone started the VM meanwhile.
	for _, pf := range pidFiles(inst) {
		if pf.Alive {
			return inst, nil
		}
	}
	if err := m.Lima.Stop(ctx, inst.Name, true); err != nil {
		return nil, err
	}
	what := "cleared the stale pid files and sockets with `limactl stop -f`"
	if len(socks) > 0 {
		what = "cleared its dead " + strings.Join(socks, ", ") + " and stale pid files with `limactl stop -f`"
	}
	m.Progress.Say("%s was not shut down cleanly: %s", inst.Name, strings.Join(append(did, what), "; "))
	return m.Inspect(ctx, inst.Name)
}

func describe(pf pidFile) string {
	if pf.Cmd == "" {
		return "another program"
	}
	return "`" + pf.Cmd + "`, another program"
}

// forceStopHint is the command that clears a Broken VM: `limactl stop -f`
// when its pid files name its own processes or dead ones, and otherwise the
// removal of the file that names another program, which stop -f would kill.
func forceStopHint(inst *lima.Instance, vm string) string {
	if inst != nil {
		for _, pf := range pidFiles(inst) {
			if pf.Alive && !pf.Own {
				return fmt.Sprintf("rm %s  (pid %d is %s), then: sysvm up", pf.Path, pf.PID, describe(pf))
			}
		}
	}
	return fmt.Sprintf("limactl stop -f %s && sysvm up", vm)
}
