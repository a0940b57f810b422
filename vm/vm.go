// Package vm owns a project's VM through its life, by way of limactl: the
// Lima config sysvm generates for it (and when to regenerate it), create,
// start, stop and destroy under a per-VM lock, host ports, readiness, boot
// progress, the settings the VM was created with, and the project list.
//
// It never opens an SSH connection and never talks to Zellij: reaching the
// VM is the session package's job. It never names a file of Lima's
// instance directory: package lima reads those, and vm decides what to do
// (crash recovery, host key trust after a start, readiness). It never
// prints except through [Progress] and into the writer [WriteList] is
// given, and never exits.
package vm

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/state"
)

// DefaultStartTimeout bounds one `limactl start` when none is set.
const DefaultStartTimeout = 20 * time.Minute

// Manager brings projects' VMs up and down.
type Manager struct {
	Lima     *lima.Client
	LimaHome string
	State    state.Dir
	Progress *Progress
	Log      *slog.Logger
	Host     limaconfig.Host
	// StartTimeout bounds one `limactl start` (0: DefaultStartTimeout);
	// sysvm kills limactl a little after.
	StartTimeout time.Duration
	// PinHostKey dials the running VM inst with host-key pinning allowed
	// and hangs up; Ensure calls it under the VM's lock (see ensurePin).
	// Nil: Ensure makes no pins.
	PinHostKey func(ctx context.Context, inst *lima.Instance) error
	// ApplySettings lets Up apply changed settings to the VM it finds,
	// stopping and starting it when Lima can apply them without a new VM
	// (`sysvm up`); without it they are only reported.
	ApplySettings bool
	// Keep marks the VM's run as one idle stop must leave alone
	// (`sysvm up --keep`); it holds until the VM next stops.
	Keep bool
}

func (m *Manager) startTimeout() time.Duration {
	if m.StartTimeout > 0 {
		return m.StartTimeout
	}
	return DefaultStartTimeout
}

// Inspect returns the VM's instance, or nil when it does not exist.
func (m *Manager) Inspect(ctx context.Context, vm string) (*lima.Instance, error) {
	inst, err := m.Lima.Inspect(ctx, vm)
	var nf *lima.NotFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	return inst, err
}

// instance is vm's instance as its directory shows it, for reading its
// files without asking limactl.
func (m *Manager) instance(vm string) *lima.Instance { return lima.InstanceAt(m.LimaHome, vm) }

// LimaVersion is the version of the limactl sysvm runs ("" when it cannot
// tell). It is cached per binary, so asking costs a stat.
func (m *Manager) LimaVersion(ctx context.Context) string {
	v, err := m.Lima.Version(ctx)
	if err != nil {
		return ""
	}
	return v.String()
}
