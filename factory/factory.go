// Package factory builds what one sysvm command works with — the VM
// lifecycle, the session layer, the status reader, the broker's client
// and the broker process itself — from the environment and the global
// flags. The settings sysvm takes from environment variables are read here
// (or, for their own, by project, state, lima and limaconfig), each once,
// with one way to read a duration. It never prints: progress goes to the
// UI it is given, and its errors carry hints for the CLI to render.
package factory

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/session"
	"github.com/sysvm/sysvm/shellhook"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/status"
	"github.com/sysvm/sysvm/ui"
	"github.com/sysvm/sysvm/vm"
	"github.com/sysvm/sysvm/zellij/release"
)

// Factory is one invocation's environment and global flags.
type Factory struct {
	Getenv func(string) string
	// UI is the terminal: progress is drawn there.
	UI *ui.UI
	// Name overrides the project name derived from the directory.
	Name string
	Log  *slog.Logger
	// State, when set, is the state directory instead of the
	// environment's (`sysvm broker serve --state-dir`).
	State state.Dir
}

// StateDir is sysvm's state directory.
func (f *Factory) StateDir() state.Dir {
	if f.State != "" {
		return f.State
	}
	return state.Default(f.Getenv)
}

// ProjectOptions are the options of project discovery for this invocation.
func (f *Factory) ProjectOptions() project.Options {
	home, _ := state.Home(f.Getenv)
	sd, limaHome := f.StateDir(), lima.Home(f.Getenv)
	return project.Options{Name: f.Name, LimaHome: limaHome, Home: home,
		Owner: func(name, dir string) string { return vm.Owner(sd, limaHome, name, dir) }}
}

// Duration reads a duration setting from the environment: def when unset,
// a usage error when it is not a positive duration.
func (f *Factory) Duration(name string, def time.Duration) (time.Duration, error) {
	v := f.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, hint.Usage(fmt.Errorf("%s=%q is not a duration such as 10m", name, v))
	}
	return d, nil
}

// Settings resolves the project's VM settings: o (the command line's) over
// VM_* over sysvm.yaml. Idle stop is off with SYSVM_BROKER=0: the broker is
// what sees the clients, and it would not see direct ones.
func (f *Factory) Settings(p *project.Project, o limaconfig.Overrides) (limaconfig.Settings, error) {
	s, err := limaconfig.Resolve(p, o, f.Getenv)
	if err != nil {
		return s, hint.Usage(err)
	}
	if f.Getenv("SYSVM_BROKER") == "0" {
		s.Idle = 0
	}
	return s, nil
}

// VMs assembles the VM lifecycle.
func (f *Factory) VMs() (*vm.Manager, error) {
	exe, err := lima.Find(f.Getenv)
	if err != nil {
		return nil, hint.Wrap(err,
			"install Lima: https://lima-vm.io/docs/installation/ (macOS: `brew install lima`)",
			"or set LIMACTL to the path of limactl")
	}
	sd := f.StateDir()
	if _, err := sd.MkdirAll(); err != nil {
		return nil, err
	}
	timeout, err := f.Duration("SYSVM_START_TIMEOUT", vm.DefaultStartTimeout)
	if err != nil {
		return nil, err
	}
	home := lima.Home(f.Getenv)
	return &vm.Manager{
		Lima:         &lima.Client{Exe: exe, Dir: string(sd), Home: home, CacheDir: string(sd), Log: f.Log},
		LimaHome:     home,
		State:        sd,
		Progress:     &vm.Progress{UI: f.UI},
		Log:          f.Log,
		Host:         limaconfig.ThisHost(),
		StartTimeout: timeout,
		PinHostKey:   session.Pinner(sd),
	}, nil
}

// Sessions assembles the session layer and the VM lifecycle below it.
func (f *Factory) Sessions() (*session.Manager, error) {
	v, err := f.VMs()
	if err != nil {
		return nil, err
	}
	return f.sessions(v), nil
}

// Status assembles what reads a project's status: the VM lifecycle, the
// session layer and the broker's client.
func (f *Factory) Status() (*status.Reader, error) {
	v, err := f.VMs()
	if err != nil {
		return nil, err
	}
	sm := f.sessions(v)
	return &status.Reader{VM: v, Sessions: sm, Broker: sm.Broker}, nil
}

func (f *Factory) sessions(v *vm.Manager) *session.Manager {
	z := release.Cache{Dir: release.DefaultCacheDir(f.Getenv), Digests: release.DigestsFile(f.StateDir()), UI: f.UI}
	return &session.Manager{VM: v, LimaHome: v.LimaHome, HostKeys: v.State, Broker: f.BrokerClient(), Zellij: z, ZellijURL: f.Getenv("SYSVM_ZELLIJ_URL"), Log: f.Log}
}

// BrokerClient is the client of the user's broker process; nil when
// SYSVM_BROKER=0 asks for direct connections.
func (f *Factory) BrokerClient() *broker.Client {
	if f.Getenv("SYSVM_BROKER") == "0" {
		return nil
	}
	sd := f.StateDir()
	c := &broker.Client{Socket: broker.SocketPath(f.Getenv, sd), State: sd}
	if exe, err := Self(); err == nil {
		c.Self = exe
	}
	return c
}

// WatchIdle makes sure the broker process runs when the project's VM has
// idle stop, so that a VM brought up without an attach is watched too.
func (f *Factory) WatchIdle(s limaconfig.Settings) error {
	c := f.BrokerClient()
	if s.Idle <= 0 || c == nil {
		return nil
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("idle stop cannot watch the VM: %w", err)
	}
	return nil
}

// Daemon assembles the broker process, listening on socket (the
// environment's when empty), its idle stop wired to the VM lifecycle:
// it stops VMs the way `sysvm stop` does, under their lock. Without
// limactl the broker runs without idle stop and says so in its log.
func (f *Factory) Daemon(socket string) (*broker.Daemon, error) {
	idle, err := f.Duration("SYSVM_BROKER_IDLE", 5*time.Minute)
	if err != nil {
		return nil, err
	}
	check, err := f.Duration("SYSVM_IDLE_CHECK", time.Minute)
	if err != nil {
		return nil, err
	}
	sd := f.StateDir()
	if _, err := sd.MkdirAll(); err != nil {
		return nil, err
	}
	if socket == "" {
		socket = broker.SocketPath(f.Getenv, sd)
	}
	d := &broker.Daemon{State: sd, Socket: socket, Idle: idle, Log: f.UI.Log(slog.LevelInfo)}
	v, err := f.VMs()
	if err != nil {
		d.Log.Warn("idle stop is off in this broker", "err", err)
		return d, nil
	}
	d.IdleStop = &broker.IdleStop{
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
	}
	return d, nil
}

// DirenvExports is what `use sysvm` exports for the project of dir, with
// the directory of the vm-* helpers made ready.
func (f *Factory) DirenvExports(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	p, err := project.Lookup(abs, f.ProjectOptions(), f.StateDir().Known)
	if err != nil {
		return "", err
	}
	exe, err := Self()
	if err != nil {
		return "", err
	}
	helpers, err := f.StateDir().MkdirAll("bin")
	if err != nil {
		return "", err
	}
	if err := shellhook.LinkHelpers(helpers, exe); err != nil {
		return "", err
	}
	return shellhook.Exports(map[string]string{
		"SYSVM_PROJECT_DIR":  p.Dir,
		"SYSVM_PROJECT":      p.Slug,
		"SYSVM_VM":           p.VM,
		"SYSVM_HELPERS":      helpers,
		"SYSINIT_VM_ENABLED": "1",
		"SYSINIT_VM_NAME":    p.VM,
	}), nil
}

// Self returns the path of the running sysvm, symlinks resolved.
func Self() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the sysvm executable: %w", err)
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return p, nil
}
