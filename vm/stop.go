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
	if inst != nil {
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
