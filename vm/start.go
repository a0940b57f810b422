package vm

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
)

// One `limactl start`, with progress, a timeout and Ctrl-C that stops the
// wait but not the VM.

// start runs limactl start and shows its progress. Ctrl-C stops the wait,
// not the VM: limactl runs in its own process group and keeps booting.
// ph, when not nil, times the version check, the preparation and the
// wait on limactl start.
func (m *Manager) start(ctx context.Context, vm, cfg, phase string, ph *phases) error {
	if _, err := m.Lima.CheckVersion(ctx); err != nil {
		return err
	}
	ph.mark("limactl-version")
	startLog, err := m.startLog(vm)
	if err != nil {
		return err
	}
	timeout := m.startTimeout()
	// limactl is asked to give up at timeout; sysvm kills it if it does not
	// while it waits. An interrupted wait leaves limactl alone for good: a
	// create signalled half-way leaves no VM behind.
	runCtx, cancel := context.WithCancel(context.Background())
	kill := time.AfterFunc(timeout+5*time.Second, cancel)
	interrupted := false
	defer func() {
		if !interrupted {
			kill.Stop()
			cancel()
		}
	}()

	m.moveHalfDeletedSiblings(ctx, vm)
	began := time.Now()
	stop := m.Progress.watch(vm, phase, []string{m.instance(vm).HostAgentLog(), startLog})
	done := make(chan error, 1)
	go func() {
		done <- m.Lima.Start(runCtx, vm, lima.StartOptions{ConfigFile: cfg, Timeout: timeout.String(), LogFile: startLog, Progress: true})
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		interrupted = true
		kill.Stop()
		stop()
		return hint.Wrap(fmt.Errorf("%w: stopped waiting for %s, which keeps booting in the background", hint.ErrInterrupted, vm),
			"sysvm status", "sysvm attach")
	}
	stop()
	ph.mark(phaseLimactlStart)
	var ce *lima.CommandError
	if errors.As(err, &ce) && m.instance(vm).StartedDegraded() {
		// Lima started the VM but a non-essential part (the guest agent,
		// a probe) is not up: the VM runs and SSH works. Say so, go on.
		m.Progress.Say("warning: %s started degraded: %s", vm, ce.Reason())
		err = nil
	}
	if err != nil {
		if runCtx.Err() != nil { // the kill timer fired
			return hint.Wrap(fmt.Errorf("VM %s did not become ready within %s", vm, timeout),
				"see "+m.instance(vm).HostAgentLog(), "raise the limit with SYSVM_START_TIMEOUT=30m")
		}
		return err
	}
	m.Progress.Say("%s is running (%s)", vm, time.Since(began).Round(time.Second))
	return nil
}

// startLog is where limactl start's output for vm goes.
func (m *Manager) startLog(vm string) (string, error) {
	logs, err := m.State.MkdirAll("logs")
	if err != nil {
		return "", err
	}
	return filepath.Join(logs, vm+".start.log"), nil
}
