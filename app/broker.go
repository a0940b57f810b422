package app

import (
	"context"
	"errors"

	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/state"
)

// ServeBroker runs the broker process in the foreground until ctx ends,
// with the state directory and socket its starter named (the
// environment's when empty). Another broker that won the race to start
// is no failure.
func (a *App) ServeBroker(ctx context.Context, stateDir, socket string) error {
	a.State = state.Dir(stateDir)
	d, err := a.daemon(socket)
	if err != nil {
		return err
	}
	if err := d.Serve(ctx); !errors.Is(err, broker.ErrDaemonRunning) {
		return err
	}
	return nil
}

// BrokerStatus is what a running broker knows of its connections, a list
// that is never null; running is false when no broker runs.
func (a *App) BrokerStatus() (vms []broker.VMStatus, running bool) {
	vms, running = a.broker().Status()
	return append([]broker.VMStatus{}, vms...), running
}

// StopBroker stops the broker process; attached sessions reconnect by
// dialing again.
func (a *App) StopBroker() error {
	pid, err := a.broker().Stop()
	switch {
	case errors.Is(err, broker.ErrNotRunning):
		a.UI.Say("no broker is running")
		return nil
	case err == nil:
		a.UI.Say("stopped the broker (pid %d)", pid)
	}
	return err
}
