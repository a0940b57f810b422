package vm

import (
	"context"
	"fmt"
	"time"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
)

// Idle stop: the broker process stops a VM nobody uses. This file is the
// lifecycle half — which VMs idle stop may touch, and the stop itself —
// kept in sysvm's record of each project so a new broker process knows the
// rule. Watching clients and the guest's CPU is the broker's half.

// IdleVM is a running VM that idle stop watches.
type IdleVM struct {
	VM        string
	SSHConfig string
	Period    time.Duration
}

// saveRecord writes the project's record, keeping what sysvm knows of the
// VM's run, and sets the idle stop period from the settings. The caller
// holds the VM's lock.
func (m *Manager) saveRecord(p *project.Project, ports []int, s limaconfig.Settings) error {
	old, _ := m.State.Record(p.VM)
	idle := old.Idle
	idle.Period = state.Duration(s.Idle)
	if m.Keep {
		idle.Keep = true
	}
	return m.State.Save(state.Record{Name: p.Slug, Dir: p.Dir, VM: p.VM, Session: p.Session(), Ports: ports, Updated: time.Now(), Idle: idle})
}

// markStarted records that sysvm started the VM's current run (whose host
// agent is inst's), so idle stop may stop it. A new run is kept only when
// the user asked again.
func (m *Manager) markStarted(inst *lima.Instance) error {
	return m.State.UpdateIdle(inst.Name, func(i *state.Idle) {
		i.StartedPID, i.Keep, i.Stopped = inst.HostAgentPID, m.Keep, time.Time{}
	})
}

// idleCandidate reports whether idle stop may stop inst now.
func idleCandidate(r state.Record, inst *lima.Instance) bool {
	return r.Idle.Period > 0 && !r.Idle.Keep && r.Idle.StartedPID > 0 &&
		inst != nil && inst.Status == lima.StatusRunning && inst.HostAgentPID == r.Idle.StartedPID
}

// IdleCandidates lists the running VMs idle stop may stop: their project
// turned it on, sysvm started their current run, and nobody asked to keep
// them.
func (m *Manager) IdleCandidates(ctx context.Context) ([]IdleVM, error) {
	recs, err := m.State.Records()
	if err != nil {
		return nil, err
	}
	byVM := map[string]state.Record{}
	var names []string
	for _, r := range recs {
		if r.Idle.Period > 0 && !r.Idle.Keep && r.Idle.StartedPID > 0 {
			byVM[r.VM] = r
			names = append(names, r.VM)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	insts, err := m.Lima.List(ctx, names...)
	if err != nil {
		return nil, err
	}
	var out []IdleVM
	for i := range insts {
		if r, ok := byVM[insts[i].Name]; ok && idleCandidate(r, &insts[i]) {
			out = append(out, IdleVM{VM: r.VM, SSHConfig: insts[i].SSHConfigFile, Period: time.Duration(r.Idle.Period)})
		}
	}
	return out, nil
}

// IdleStop stops vm gracefully, as `sysvm stop` does, if it is still an
// idle stop candidate once the VM's lock is held, and records when. It
// reports whether it stopped the VM.
//
// A VM that a command ensured within the period is left alone: that
// command (an attach, a shell) holds no connection yet while it dials, so
// the broker saw no client, but the VM is in use.
func (m *Manager) IdleStop(ctx context.Context, vm string) (bool, error) {
	lock, err := m.State.LockVM(vm)
	if err != nil {
		return false, err
	}
	defer lock.Unlock()
	r, ok := m.State.Record(vm)
	if !ok || time.Since(r.Updated) < time.Duration(r.Idle.Period) {
		return false, nil
	}
	inst, err := m.Inspect(ctx, vm)
	if err != nil || !idleCandidate(r, inst) {
		return false, err
	}
	if err := m.Lima.Stop(ctx, vm, false); err != nil {
		return false, fmt.Errorf("idle stop of %s: %w", vm, err)
	}
	return true, m.State.UpdateIdle(vm, func(i *state.Idle) { i.Stopped, i.StartedPID = time.Now(), 0 })
}

// IdleState is the idle stop part of the VM's record.
func (m *Manager) IdleState(vm string) state.Idle {
	r, _ := m.State.Record(vm)
	return r.Idle
}
