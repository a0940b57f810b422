package vm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sysvm/sysvm/lima"
)

// Recovery after a host crash. An unclean shutdown leaves an instance's
// pid files and sockets behind (package lima reads them). Lima reads a pid
// file whose process is gone as absent (and deletes it), but one whose pid
// now belongs to another program counts as alive, so `limactl list` says
// Broken and `limactl start` refuses — and `limactl stop -f`, Lima's own
// repair, SIGKILLs whatever the pid files name (Lima v2.2.0
// pkg/instance/stop.go StopForcibly). So sysvm checks what each pid is
// before anything signals it: a file naming another program is removed by
// sysvm, and only then does `limactl stop -f` clear the rest.

// recoverCrash repairs what an unclean shutdown left of a VM that is not
// running, before sysvm starts it. It never touches a VM one of whose
// processes still runs, and never signals a process that is not the VM's
// own. It returns the instance as Lima now sees it.
func (m *Manager) recoverCrash(ctx context.Context, inst *lima.Instance) (*lima.Instance, error) {
	if inst == nil || (inst.Status != lima.StatusStopped && inst.Status != lima.StatusBroken) || halfDeleted(inst) != nil {
		// Running, or a state Lima's stop -f cannot mend (a missing
		// Lima config): the usual errors explain those.
		return inst, nil
	}
	pids := inst.PIDFiles()
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
	socks := inst.DeadSockets()
	if len(did) == 0 && len(socks) == 0 && inst.Status != lima.StatusBroken {
		return inst, nil
	}
	// Check once more right before Lima signals what the pid files name:
	// everything must be gone, or someone started the VM meanwhile.
	for _, pf := range inst.PIDFiles() {
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

func describe(pf lima.PIDFile) string {
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
		for _, pf := range inst.PIDFiles() {
			if pf.Alive && !pf.Own {
				return fmt.Sprintf("rm %s  (pid %d is %s), then: sysvm up", pf.Path, pf.PID, describe(pf))
			}
		}
	}
	return fmt.Sprintf("limactl stop -f %s && sysvm up", vm)
}
