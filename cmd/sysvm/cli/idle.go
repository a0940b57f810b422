package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/session"
)

// idleStop wires the broker process's idle stop to the VM lifecycle: it
// stops VMs the way `sysvm stop` does, under their lock. Without limactl
// the broker runs without idle stop, and says so in its log.
func (a *App) idleStop() (*broker.IdleStop, error) {
	check, err := a.durationEnv("SYSVM_IDLE_CHECK", time.Minute)
	if err != nil {
		return nil, err
	}
	v, err := a.vms()
	if err != nil {
		fmt.Fprintf(a.ErrOut, "sysvm: idle stop is off in this broker: %v\n", err)
		return nil, nil
	}
	return &broker.IdleStop{
		Check: check,
		Candidates: func(ctx context.Context) ([]broker.IdleVM, error) {
			vms, err := v.IdleCandidates(ctx)
			out := make([]broker.IdleVM, len(vms))
			for i, c := range vms {
				out[i] = broker.IdleVM{VM: c.VM, SSHConfig: c.SSHConfig, Period: c.Period}
			}
			return out, err
		},
		Stop: v.IdleStop,
	}, nil
}

// idleSettings turns idle stop off when SYSVM_BROKER=0: the broker is what
// sees the clients, and it would not see direct ones.
func (a *App) idleSettings(s *limaconfig.Settings) {
	if a.Getenv("SYSVM_BROKER") == "0" {
		s.Idle = 0
	}
}

// startIdleBroker makes sure the broker process runs when the project's VM
// has idle stop, so a VM brought up without an attach is watched too. A
// broker that cannot start only costs the idle stop: a warning, no error.
func (a *App) startIdleBroker(s limaconfig.Settings) {
	c := a.brokerClient()
	if s.Idle <= 0 || c == nil {
		return
	}
	if err := c.Start(); err != nil {
		fmt.Fprintf(a.ErrOut, "sysvm: warning: idle stop cannot watch the VM: %v\n", err)
	}
}

// printIdle writes the idle stop lines of `sysvm status`.
func printIdle(w io.Writer, st session.Status) {
	i := st.Idle
	if i.Stopped != "" {
		fmt.Fprintf(w, "stopped\tby idle stop at %s\n", i.Stopped)
	}
	switch {
	case i.Period == "":
	case i.Keep:
		fmt.Fprintf(w, "idle stop\tafter %s, but this run is kept (sysvm up --keep)\n", i.Period)
	default:
		fmt.Fprintf(w, "idle stop\tafter %s with no client and a quiet guest\n", i.Period)
	}
}
