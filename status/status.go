// Package status is what `sysvm status` shows of a project: it joins the
// VM's view (package vm), the Zellij session's (package session, which
// asks the running VM) and the broker process's, and names the project's
// files that wait for `sysvm allow`. It only reads: it never starts,
// stops or changes a VM, installs nothing in it, renders only into the
// writer the CLI passes ([Status.WriteText]), and never exits.
package status

import (
	"context"

	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/session"
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
	// key pinned was trusted on first use: the image printed none).
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

// Reader reads a project's status from the layers that know it.
type Reader struct {
	// VM is the VM lifecycle: the config, the VM, its record.
	VM *vm.Manager
	// Sessions asks a running VM for its Zellij and its sessions.
	Sessions *session.Manager
	// Broker is the broker process's client; nil when sysvm dials every
	// VM directly.
	Broker *broker.Client
}

// Read joins what sysvm knows of the project: its config, its VM, its
// Zellij session and the broker's connection.
func (r *Reader) Read(ctx context.Context, p *project.Project, s limaconfig.Settings) (Status, error) {
	cfg := r.VM.ConfigState(p, s)
	st := Status{Project: p.Slug, Dir: p.Dir, VM: p.VM, Config: cfg.Path, Session: p.Session(),
		State: vm.StateNotCreated, SessionState: "unknown",
		ConfigExists: cfg.Exists, ConfigEdited: cfg.Exists && cfg.Edited, ConfigDiffers: cfg.Exists && cfg.Differs}
	inst, err := r.VM.Inspect(ctx, p.VM)
	if err != nil {
		return st, err
	}
	st.Lima = r.VM.LimaVersion(ctx)
	if inst != nil {
		st.State, st.SSHPort = inst.Status, inst.SSHLocalPort
		st.Changed = r.VM.Changed(p)
		if inst.Status == lima.StatusRunning {
			st.SSHConfig = inst.SSHConfigFile
			st.HostKeys = "first-use"
			if r.VM.HostKeysFromConsole(p.VM) && !r.VM.State.PinnedOnFirstUse(p.VM) {
				st.HostKeys = "console"
			}
			st.Zellij, st.SessionState = r.sessionState(ctx, p, inst)
		}
	}
	st.Idle = r.idleStatus(p.VM, st.State)
	st.LastStart = r.VM.LastStart(p.VM)
	st.NotAllowed = allow.Pending(r.VM.State, p)
	if r.Broker != nil {
		if vms, ok := r.Broker.Status(); ok {
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
func (r *Reader) sessionState(ctx context.Context, p *project.Project, inst *lima.Instance) (*release.Zellij, string) {
	z, ss, err := r.Sessions.Inspect(ctx, p, inst)
	if err != nil {
		return z, "unknown"
	}
	if s, ok := zellij.Find(ss, p.Session()); ok {
		return z, s.State()
	}
	return z, "none"
}
