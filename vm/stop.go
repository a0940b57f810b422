package vm

import (
	"context"
	"fmt"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/project"
)

// Stopping and destroying a VM, under its lock.

// Stop stops the project's VM and says what it did.
func (m *Manager) Stop(ctx context.Context, p *project.Project) (string, error) {
	lock, err := m.State.LockVM(p.VM)
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	if err := m.checkOwner(p, "stop", "stop"); err != nil {
		return "", err
	}
	inst, err := m.Inspect(ctx, p.VM)
	switch {
	case err != nil:
		return "", err
	case inst == nil:
		return "does not exist; nothing to stop", nil
	case inst.Status == lima.StatusStopped:
		return "is already stopped", nil
	case inst.Status != lima.StatusRunning:
		return "", hint.Wrap(fmt.Errorf("VM %s is %s and cannot be stopped cleanly", p.VM, inst.Status), forceStopHint(inst, p.VM))
	}
	m.moveHalfDeletedSiblings(ctx, p.VM)
	if err := m.Lima.Stop(ctx, p.VM, false); err != nil {
		return "", hint.Wrap(err, fmt.Sprintf("limactl stop -f %s  (forces it off)", p.VM))
	}
	return "stopped", nil
}

// Destroy deletes the project's VM; the project directory is not touched.
// With forget, sysvm also drops the project from its list.
func (m *Manager) Destroy(ctx context.Context, p *project.Project, forget bool) (existed bool, err error) {
	lock, err := m.State.LockVM(p.VM)
	if err != nil {
		return false, err
	}
	defer lock.Unlock()
	if err := m.checkOwner(p, "delete", "destroy"); err != nil {
		return false, err
	}
	inst, err := m.Inspect(ctx, p.VM)
	if err != nil {
		return false, err
	}
	switch {
	case inst != nil && inst.MissingConfig() != "":
		// No limactl deletes it (see lima.RemoveHalfDeleted): sysvm
		// removes that one directory itself.
		if err := m.Lima.RemoveHalfDeleted(p.VM); err != nil {
			return true, err
		}
		m.Progress.Say("removed %s, the half-deleted instance directory of %s (it had no Lima config; limactl refuses to delete it)", inst.Dir, p.VM)
	case inst != nil:
		m.moveHalfDeletedSiblings(ctx, p.VM)
		if err := m.Lima.Delete(ctx, p.VM, true); err != nil {
			return true, err
		}
	}
	if err := m.State.UnpinHostKey(p.VM); err != nil {
		return inst != nil, err
	}
	if err := m.State.ForgetCreated(p.VM); err != nil {
		return inst != nil, err
	}
	if err := m.State.ForgetStartTimings(p.VM); err != nil {
		return inst != nil, err
	}
	if forget {
		if err := m.State.Forget(p.VM); err != nil {
			return inst != nil, err
		}
	}
	return inst != nil, nil
}

// moveHalfDeletedSiblings moves other instances' half-deleted directories
// out of LIMA_HOME's instance namespace before a limactl start, stop or
// delete of vm, with a note naming where each went: before Lima 2.2 those
// commands fail over any one of them, so another project's interrupted
// create or delete would stop this project's VM from starting or stopping
// (see lima.HalfDeletedSiblings). From 2.2 Lima skips them, and they stay.
// It fails nothing: when a move fails, limactl says what is wrong.
func (m *Manager) moveHalfDeletedSiblings(ctx context.Context, vm string) {
	if v, err := m.Lima.Version(ctx); err != nil || v.AtLeast(2, 2) {
		return
	}
	names, err := m.Lima.HalfDeletedSiblings(vm)
	if err != nil {
		return
	}
	for _, n := range names {
		to, err := m.Lima.MoveAside(n)
		if err != nil {
			if m.Log != nil {
				m.Log.Debug("moving a half-deleted instance aside", "instance", n, "err", err)
			}
			continue
		}
		m.Progress.Say("moved the half-deleted Lima instance %s (no lima.yaml; it fails every limactl start, stop and delete before Lima 2.2) to %s", n, to)
	}
}
