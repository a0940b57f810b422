package vm

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/sysvm/sysvm/detach"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
)

// Bringing a VM up: Ensure inspects it under its lock, repairs what a
// crash left, and creates, starts or waits for it.

// Up brings the project's VM to Running: it creates the VM from the
// project's config when it is missing, starts it when stopped, and does
// nothing when it runs. Concurrent calls for one VM are serialised.
func (m *Manager) Up(ctx context.Context, p *project.Project, s limaconfig.Settings) (*lima.Instance, error) {
	return m.Ensure(ctx, p, s, true)
}

// Ensure is Up; with create false a missing VM is an error, not a new VM
// (a reconnect must not bring back a VM the user destroyed).
func (m *Manager) Ensure(ctx context.Context, p *project.Project, s limaconfig.Settings, create bool) (*lima.Instance, error) {
	ph := newPhases()
	cfg, err := m.EnsureConfig(p, s)
	if err != nil {
		return nil, err
	}
	if cfg.Edited {
		m.Progress.Say("using your edited %s (it differs from `sysvm config`)", cfg.Path)
	}
	ports, err := configPorts(cfg.Path, cfg.Bytes)
	if err != nil {
		return nil, err
	}
	ph.mark("config")
	lock, err := m.State.LockVM(p.VM)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	ph.mark("lock")
	if err := m.checkOwner(p, "use", "up"); err != nil {
		return nil, err
	}

	if err := m.waitEarlierStart(ctx, p.VM); err != nil {
		return nil, err
	}
	inst, err := m.Inspect(ctx, p.VM)
	if err != nil {
		return nil, err
	}
	if inst, err = m.recoverCrash(ctx, inst); err != nil {
		return nil, err
	}
	if inst != nil && inst.Status == lima.StatusBroken {
		if inst, err = m.waitNotBroken(ctx, p.VM); err != nil {
			return nil, err
		}
	}
	ph.mark("inspect")
	if inst != nil {
		if inst, err = m.applySettings(ctx, p, cfg.Bytes, inst); err != nil {
			return nil, err
		}
	}
	if inst == nil || inst.Status != lima.StatusRunning {
		if err := m.checkPorts(ctx, p, ports); err != nil {
			return nil, err
		}
	}
	if err := m.saveRecord(p, ports, s); err != nil {
		return nil, err
	}
	if inst != nil {
		m.sayChanged(p, cfg.Bytes)
	}

	ph.mark("ports-and-record")
	started := inst == nil || inst.Status == lima.StatusStopped
	kind := "start"
	switch {
	case inst == nil && !create:
		return nil, hint.Wrap(fmt.Errorf("%w: %s no longer exists (was it destroyed?)", hint.ErrGone, p.VM), "sysvm attach  (creates it again)")
	case inst == nil:
		// A new VM has a new host key: forget the pinned one.
		if err := m.State.UnpinHostKey(p.VM); err != nil {
			return nil, err
		}
		ph.mark("unpin-host-key")
		kind = "create"
		// limactl gets a private copy of the bytes checked and allowed,
		// never the project's file, which could have changed since; the
		// copy is also the record of what the VM was created from.
		var private string
		if private, err = m.State.SaveCreated(p.VM, cfg.Bytes); err != nil {
			return nil, err
		}
		ph.mark("private-config")
		if err = m.start(ctx, p.VM, private, "creating", ph); err == nil {
			m.awaitHostKeys(ctx, p.VM, firstConsoleWait)
			ph.mark("host-keys")
		}
	case inst.Status == lima.StatusStopped:
		// Lima's guest makes new SSH host keys at every boot (cloud-init
		// sees a new instance-id): the new key must be the one its console
		// prints, or, for a guest that prints none, a start by sysvm
		// re-pins, as a create does. A key that changes while the VM runs
		// is refused either way.
		var printed bool
		if printed, err = m.beforeStart(p.VM); err != nil {
			return nil, err
		}
		ph.mark("before-start")
		if err = m.start(ctx, p.VM, "", "starting", ph); err == nil && printed {
			m.awaitHostKeys(ctx, p.VM, consoleWait)
			ph.mark("host-keys")
		}
	case inst.Status == lima.StatusRunning:
		err = m.waitReady(ctx, inst)
	default:
		err = hint.Wrap(fmt.Errorf("VM %s is in state %q", p.VM, inst.Status), forceStopHint(inst, p.VM))
	}
	if err != nil {
		return nil, err
	}
	if inst, err = m.Inspect(ctx, p.VM); err != nil {
		return nil, err
	}
	if inst == nil || inst.Status != lima.StatusRunning {
		status, log := "gone", m.instance(p.VM).HostAgentLog()
		if inst != nil {
			status, log = inst.Status, inst.HostAgentLog()
		}
		return nil, hint.Wrap(fmt.Errorf("VM %s is %s after start", p.VM, status),
			fmt.Sprintf("limactl list %s", p.VM), fmt.Sprintf("see %s", log))
	}
	ph.mark("inspect-after")
	if err := m.ensurePin(ctx, inst, started); err != nil {
		return nil, err
	}
	ph.mark("pin")
	if started {
		if err := m.markStarted(inst); err != nil {
			return nil, err
		}
		ph.mark("mark-started")
		// Timings are a diagnostic: failing to keep them fails no start.
		_ = m.State.SaveStartTimings(p.VM, ph.done(kind))
	}
	return inst, nil
}

// halfDeleted explains an instance directory without its Lima config (left
// by an interrupted create or delete). No limactl command repairs it
// (see lima.RemoveHalfDeleted); `sysvm up --recreate` and `sysvm destroy`
// remove it.
func halfDeleted(inst *lima.Instance) error {
	if missing := inst.MissingConfig(); missing != "" {
		return hint.Wrap(fmt.Errorf("VM %s is Broken: its instance directory %s has no %s (an interrupted create or delete?)", inst.Name, inst.Dir, missing),
			"sysvm up --recreate  (removes that directory and creates the VM again)")
	}
	return nil
}

// waitEarlierStart waits, with progress, while a `limactl start` of vm that
// an earlier sysvm began is still running (that sysvm was interrupted; its
// limactl keeps booting or creating the VM): starting it a second time
// meanwhile would fail or race.
func (m *Manager) waitEarlierStart(ctx context.Context, vm string) error {
	path, err := m.startLog(vm)
	if err != nil || !lima.StartRunning(path) {
		return err
	}
	stop := m.Progress.watch(vm, "waiting for an earlier start of", []string{m.instance(vm).HostAgentLog(), path})
	defer stop()
	for lima.StartRunning(path) {
		select {
		case <-ctx.Done():
			return hint.Wrap(fmt.Errorf("%w: stopped waiting for %s, which keeps starting in the background", hint.ErrInterrupted, vm), "sysvm status")
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// waitNotBroken tolerates the Broken status Lima shows for a moment while a
// start is under way, then gives up with the command that recovers.
func (m *Manager) waitNotBroken(ctx context.Context, vm string) (*lima.Instance, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		inst, err := m.Inspect(ctx, vm)
		if err != nil || inst == nil || inst.Status != lima.StatusBroken {
			return inst, err
		}
		if time.Now().After(deadline) {
			if err := halfDeleted(inst); err != nil {
				return nil, err
			}
			return nil, hint.Wrap(fmt.Errorf("VM %s is Broken (its host agent or QEMU died)", vm), forceStopHint(inst, vm))
		}
		select {
		case <-ctx.Done():
			return nil, hint.ErrInterrupted
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitReady waits for a VM that runs but whose boot another process started
// (for example `sysvm up --background`) to report READY in its events.
func (m *Manager) waitReady(ctx context.Context, inst *lima.Instance) error {
	if inst.Booted() {
		return nil
	}
	stop := m.Progress.watch(inst.Name, "booting", []string{inst.HostAgentLog()})
	defer stop()
	timeout := m.startTimeout()
	deadline := time.Now().Add(timeout)
	for !inst.Booted() {
		if time.Now().After(deadline) {
			return hint.Wrap(fmt.Errorf("VM %s did not become ready within %s", inst.Name, timeout),
				"see "+inst.HostAgentLog())
		}
		select {
		case <-ctx.Done():
			return hint.Wrap(fmt.Errorf("%w: stopped waiting for %s, which keeps booting in the background", hint.ErrInterrupted, inst.Name), "sysvm status")
		case <-time.After(300 * time.Millisecond):
		}
	}
	return nil
}

// UpBackground runs argv (a `sysvm up` of the project) in a new session
// with every descriptor closed and its output in a log, so a prompt
// (direnv) never waits for it. It returns the log's path.
func (m *Manager) UpBackground(p *project.Project, s limaconfig.Settings, argv []string) (string, error) {
	if _, err := m.EnsureConfig(p, s); err != nil {
		return "", err
	}
	logs, err := m.State.MkdirAll("logs")
	if err != nil {
		return "", err
	}
	logPath := filepath.Join(logs, p.VM+".up.log")
	proc, err := detach.Start(argv, p.Dir, logPath, true)
	if err != nil {
		return "", err
	}
	_ = proc.Release()
	return logPath, nil
}
