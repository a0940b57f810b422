// Package app is sysvm's composition root and its use cases. It holds what
// one invocation works with — the environment, the terminal's UI, the
// global flags, the state directory — builds the layers below from them
// (the VM lifecycle, the session layer, the status reader, the broker's
// client and the broker process), and runs what each command does to a
// project: open it (discovery, its notes, the allow gate with its prompt
// on a terminal), up, stop, destroy, status, list, config, attach, shell,
// sessions, forget-host-key, init and allow, direnv's exports and the
// broker's commands. Each command of the CLI is one call here.
//
// The settings sysvm takes from environment variables are read here (or,
// for their own, by project, state, lima and limaconfig), each once, with
// one way to read a duration.
//
// It never prints but through package ui (results a command prints on
// stdout are returned to the CLI), never exits, and knows nothing of
// cobra: its errors carry hints and kinds for the CLI to render.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/detach"
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

// App is one invocation's environment, terminal and global flags.
type App struct {
	Getenv func(string) string
	// UI is the terminal: everything sysvm says goes there.
	UI *ui.UI
	// Name overrides the project name derived from the directory.
	Name string
	Log  *slog.Logger
	// State, when set, is the state directory instead of the
	// environment's (`sysvm broker serve --state-dir`).
	State state.Dir
}

// Globals are the global flags.
type Globals struct {
	// Verbose logs every limactl and ssh step; Quiet prints no progress.
	Verbose, Quiet bool
	// Name is --name.
	Name string
}

// New returns the invocation of getenv and u with the global flags g, once
// the state directory is known to be absolute and safe to use.
func New(getenv func(string) string, u *ui.UI, g Globals) (*App, error) {
	level := slog.LevelWarn
	if g.Verbose || getenv("SYSVM_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := u.Log(level)
	u.Quiet, u.Verbose = g.Quiet, g.Verbose
	a := &App{Getenv: getenv, UI: u, Name: g.Name, Log: log}
	// Every later state.Default is then absolute, and safe to use.
	d, err := state.Resolve(getenv)
	if err == nil {
		err = d.Check()
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Process readies this process to run one sysvm command line and returns
// it, from os.Args: descriptors inherited above stderr are marked
// close-on-exec (see package detach), and run as a helper (vm-shell,
// vm-stop, ...) the program's name picks the command.
func Process(argv []string) []string {
	detach.CloseInheritedFDs()
	args := argv[1:]
	if sub, ok := shellhook.Helpers[filepath.Base(argv[0])]; ok {
		if sub[0] == "shell" && len(args) > 0 && args[0] != "--" {
			args = append([]string{"--"}, args...)
		}
		args = append(append([]string{}, sub...), args...)
	}
	return args
}

// stateDir is sysvm's state directory.
func (a *App) stateDir() state.Dir {
	if a.State != "" {
		return a.State
	}
	return state.Default(a.Getenv)
}

// projectOptions are the options of project discovery for this invocation.
func (a *App) projectOptions() project.Options {
	home, _ := state.Home(a.Getenv)
	sd, limaHome := a.stateDir(), lima.Home(a.Getenv)
	return project.Options{Name: a.Name, LimaHome: limaHome, Home: home,
		Owner: func(name, dir string) string { return vm.Owner(sd, limaHome, name, dir) }}
}

// duration reads a duration setting from the environment: def when unset,
// a usage error when it is not a positive duration.
func (a *App) duration(name string, def time.Duration) (time.Duration, error) {
	v := a.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, hint.Usage(fmt.Errorf("%s=%q is not a duration such as 10m", name, v))
	}
	return d, nil
}

// settings resolves the project's VM settings: o (the command line's) over
// VM_* over sysvm.yaml. Idle stop is off with SYSVM_BROKER=0: the broker is
// what sees the clients, and it would not see direct ones.
func (a *App) settings(p *project.Project, o limaconfig.Overrides) (limaconfig.Settings, error) {
	s, err := limaconfig.Resolve(p, o, a.Getenv)
	if err != nil {
		return s, hint.Usage(err)
	}
	if a.Getenv("SYSVM_BROKER") == "0" {
		s.Idle = 0
	}
	return s, nil
}

// vms assembles the VM lifecycle.
func (a *App) vms() (*vm.Manager, error) {
	exe, err := lima.Find(a.Getenv)
	if err != nil {
		return nil, hint.Wrap(err,
			"install Lima: https://lima-vm.io/docs/installation/ (macOS: `brew install lima`)",
			"or set LIMACTL to the path of limactl")
	}
	sd := a.stateDir()
	if _, err := sd.MkdirAll(); err != nil {
		return nil, err
	}
	timeout, err := a.duration("SYSVM_START_TIMEOUT", vm.DefaultStartTimeout)
	if err != nil {
		return nil, err
	}
	home := lima.Home(a.Getenv)
	return &vm.Manager{
		Lima:         &lima.Client{Exe: exe, Dir: string(sd), Home: home, CacheDir: string(sd), Log: a.Log},
		LimaHome:     home,
		State:        sd,
		Progress:     &vm.Progress{UI: a.UI},
		Log:          a.Log,
		Host:         limaconfig.ThisHost(),
		StartTimeout: timeout,
		PinHostKey:   session.Pinner(sd),
	}, nil
}

// sessions assembles the session layer and the VM lifecycle below it.
func (a *App) sessions() (*session.Manager, error) {
	v, err := a.vms()
	if err != nil {
		return nil, err
	}
	return a.sessionsOf(v), nil
}

// statusReader assembles what reads a project's status: the VM lifecycle,
// the session layer and the broker's client.
func (a *App) statusReader() (*status.Reader, error) {
	v, err := a.vms()
	if err != nil {
		return nil, err
	}
	sm := a.sessionsOf(v)
	return &status.Reader{VM: v, Sessions: sm, Broker: sm.Broker}, nil
}

func (a *App) sessionsOf(v *vm.Manager) *session.Manager {
	z := release.Cache{Dir: release.DefaultCacheDir(a.Getenv), Digests: release.DigestsFile(a.stateDir()), UI: a.UI}
	return &session.Manager{VM: v, LimaHome: v.LimaHome, HostKeys: v.State, Broker: a.brokerInUse(), Zellij: z, ZellijURL: a.Getenv("SYSVM_ZELLIJ_URL"), Log: a.Log}
}

// broker is the client of the user's broker process: the one way sysvm
// builds one.
func (a *App) broker() *broker.Client {
	sd := a.stateDir()
	c := &broker.Client{Socket: broker.SocketPath(a.Getenv, sd), State: sd}
	if exe, err := self(); err == nil {
		c.Self = exe
	}
	return c
}

// brokerInUse is the broker's client the session layer reaches VMs
// through; nil when SYSVM_BROKER=0 asks for direct connections.
func (a *App) brokerInUse() *broker.Client {
	if a.Getenv("SYSVM_BROKER") == "0" {
		return nil
	}
	return a.broker()
}

// watchIdle makes sure the broker process runs when the project's VM has
// idle stop, so that a VM brought up without an attach is watched too.
func (a *App) watchIdle(s limaconfig.Settings) error {
	c := a.brokerInUse()
	if s.Idle <= 0 || c == nil {
		return nil
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("idle stop cannot watch the VM: %w", err)
	}
	return nil
}

// daemon assembles the broker process, listening on socket (the
// environment's when empty), its idle stop wired to the VM lifecycle:
// it stops VMs the way `sysvm stop` does, under their lock. Without
// limactl the broker runs without idle stop and says so in its log.
func (a *App) daemon(socket string) (*broker.Daemon, error) {
	idle, err := a.duration("SYSVM_BROKER_IDLE", 5*time.Minute)
	if err != nil {
		return nil, err
	}
	check, err := a.duration("SYSVM_IDLE_CHECK", time.Minute)
	if err != nil {
		return nil, err
	}
	sd := a.stateDir()
	if _, err := sd.MkdirAll(); err != nil {
		return nil, err
	}
	if socket == "" {
		socket = broker.SocketPath(a.Getenv, sd)
	}
	d := &broker.Daemon{State: sd, Socket: socket, Idle: idle, Log: a.UI.Log(slog.LevelInfo)}
	v, err := a.vms()
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

// self returns the path of the running sysvm, symlinks resolved.
func self() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the sysvm executable: %w", err)
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return p, nil
}
