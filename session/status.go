package session

import (
	"context"

	"github.com/sysvm/sysvm/allow"

	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/vm"
	"github.com/sysvm/sysvm/zellij"
	"github.com/sysvm/sysvm/zellij/release"
)

// Status is what `sysvm status` shows of a project.
type Status struct {
	Project   string `json:"project"`
	Dir       string `json:"dir"`
	VM        string `json:"vm"`
	State     string `json:"state"`
	SSHPort   int    `json:"sshPort,omitempty"`
	SSHConfig string `json:"sshConfig,omitempty"`
	Config    string `json:"config"`
	// ConfigEdited means the user edited the config: sysvm uses it as it
	// is. ConfigDiffers means it is not what `sysvm config` generates now.
	ConfigEdited  bool `json:"configEdited"`
	ConfigDiffers bool `json:"configDiffers"`
	ConfigExists  bool `json:"configExists"`
	// Changed lists the settings that differ from those the VM was
	// created with (apply them with `sysvm up --recreate`).
	Changed []string `json:"changed,omitempty"`
	Session string   `json:"session"`
	// SessionState is running, exited, none (no such session yet) or
	// unknown (the VM is not running or could not be asked).
	SessionState string `json:"sessionState"`
	// Lima is the version of limactl sysvm runs.
	Lima string `json:"lima,omitempty"`
	// Zellij is the zellij the VM runs, when the VM runs and has one.
	Zellij *release.Zellij `json:"zellij,omitempty"`
	// HostKeys says how the VM's SSH host key is checked: "console" (against
	// the fingerprints its console printed at boot) or "first-use" (the
	// image prints none: trusted on first use after each start by sysvm).
	HostKeys string `json:"hostKeys,omitempty"`
	// Broker is the broker process's connection to the VM, if it has one.
	Broker *broker.VMStatus `json:"broker,omitempty"`
	// Idle is the VM's idle stop.
	Idle IdleStatus `json:"idle"`
	// LastStart is how long each phase of sysvm's last start or creation
	// of the VM took (milliseconds), and sysvm's own share of it.
	LastStart *state.StartTimings `json:"lastStart,omitempty"`
	// NotAllowed names the project's files that wait for `sysvm allow`
	// (see allow.Pending): status shows them rather than refusing.
	NotAllowed []string `json:"notAllowed,omitempty"`
}

// Status joins what sysvm knows of the project: its config, its VM, its
// Zellij session and the broker's connection.
func (m *Manager) Status(ctx context.Context, p *project.Project, s limaconfig.Settings) (Status, error) {
	cfg := m.VM.ConfigState(p, s)
	st := Status{Project: p.Slug, Dir: p.Dir, VM: p.VM, Config: cfg.Path, Session: p.Session(),
		State: vm.StateNotCreated, SessionState: "unknown",
		ConfigExists: cfg.Exists, ConfigEdited: cfg.Exists && cfg.Edited, ConfigDiffers: cfg.Exists && cfg.Differs}
	inst, err := m.VM.Inspect(ctx, p.VM)
	if err != nil {
		return st, err
	}
	st.Lima = m.VM.LimaVersion(ctx)
	if inst != nil {
		st.State, st.SSHPort = inst.Status, inst.SSHLocalPort
		st.Changed = m.VM.Changed(p)
		if inst.Status == lima.StatusRunning {
			st.SSHConfig = inst.SSHConfigFile
			st.HostKeys = "first-use"
			if m.VM.HostKeysFromConsole(p.VM) {
				st.HostKeys = "console"
			}
			st.Zellij, st.SessionState = m.sessionState(ctx, p, inst)
		}
	}
	st.Idle = m.idleStatus(p.VM, st.State)
	st.LastStart = m.VM.LastStart(p.VM)
	st.NotAllowed = allow.Pending(m.VM.State, p)
	if m.Broker != nil {
		if vms, ok := m.Broker.Status(); ok {
			for i := range vms {
				if vms[i].VM == p.VM {
					st.Broker = &vms[i]
				}
			}
		}
	}
	return st, nil
}

// sessionState asks the VM which zellij it runs and for the state of the
// project's Zellij session.
func (m *Manager) sessionState(ctx context.Context, p *project.Project, inst *lima.Instance) (*release.Zellij, string) {
	z, ss, err := m.sessionsIn(ctx, p, inst)
	if err != nil {
		return z, "unknown"
	}
	if s, ok := zellij.Find(ss, p.Session()); ok {
		return z, s.State()
	}
	return z, "none"
}
