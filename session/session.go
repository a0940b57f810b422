// Package session puts the user's terminal in a project's VM: `attach`
// (the project's Zellij session, with its layout, reconnecting by itself
// when the link drops), `shell` (a login shell or one command, taking the
// warm path with no limactl when the VM answers), and the Zellij sessions
// in a VM. An attach brings the host's terminfo entry for TERM into a VM
// that lacks it (infocmp on the host, tic in the guest).
//
// It reaches the VM through the broker process when it runs (package
// broker's Client) and dials directly otherwise; it brings the VM up
// through package vm and never runs limactl itself. It writes to the
// terminal only through the sshx.Terminal it is given, renders its session
// list only into the writer the CLI passes ([WriteSessions]), and never
// exits. A project's status is package status's.
package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/display"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/layouts"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/ui"
	"github.com/sysvm/sysvm/vm"
	"github.com/sysvm/sysvm/zellij"
	"github.com/sysvm/sysvm/zellij/release"
)

// VMs is what a session needs of the VM lifecycle; package vm's Manager
// is one.
type VMs interface {
	// Ensure brings the project's VM up and returns it running; with
	// create false a missing VM is an error, not a new VM.
	Ensure(ctx context.Context, p *project.Project, s limaconfig.Settings, create bool) (*lima.Instance, error)
	// Up is Ensure with create set.
	Up(ctx context.Context, p *project.Project, s limaconfig.Settings) (*lima.Instance, error)
	// Inspect returns the VM, or nil when it does not exist.
	Inspect(ctx context.Context, vm string) (*lima.Instance, error)
}

// Manager opens sessions in projects' VMs.
type Manager struct {
	// VM brings the VM up when it is not running.
	VM VMs
	// Broker is the broker process's client; nil dials every VM directly.
	Broker *broker.Client
	// LimaHome is Lima's home directory, where the warm path finds the
	// ssh.config of a VM's last start.
	LimaHome string
	// HostKeys is where the VMs' SSH host keys are pinned.
	HostKeys sshx.HostKeys
	// Zellij is where the pinned Zellij release is cached on this host;
	// its Base is set per project (see zellijCache).
	Zellij release.Cache
	// ZellijURL is $SYSVM_ZELLIJ_URL: a mirror of the release's download
	// directory that wins over the project's zellij.url.
	ZellijURL string
	Log       *slog.Logger

	// dial reaches running VMs; nil is the Manager's own way, through
	// Broker or directly (tests put a fake here).
	dial         dialer
	fallbackOnce sync.Once
}

// Guard refuses to attach where it would nest: inside a sysvm VM (every
// session there carries SYSINIT_IN_VM=1), or inside a local Zellij unless
// forced.
func Guard(getenv func(string) string, force bool) error {
	if getenv("SYSINIT_IN_VM") != "" {
		return hint.Wrap(fmt.Errorf("%w: this shell is already inside a sysvm VM (SYSINIT_IN_VM is set)", hint.ErrNested),
			"detach (Ctrl-o d) to get back to the host, then run sysvm there")
	}
	if getenv("ZELLIJ") != "" && !force {
		return hint.Wrap(fmt.Errorf("%w: this shell is inside a local Zellij session (ZELLIJ is set); attaching would put Zellij inside Zellij", hint.ErrNested),
			"sysvm attach --force  (nest anyway)", "or detach from the local session first")
	}
	return nil
}

// AttachOptions tune Attach.
type AttachOptions struct {
	// Fresh deletes a dead (EXITED) session before attaching, so the layout
	// is applied anew rather than resurrected.
	Fresh bool
	// Term is the local TERM.
	Term string
	// Reconnect is how long to keep trying after each loss of the link
	// (0: DefaultReconnect).
	Reconnect time.Duration
}

// layout returns the project's layout as it was read when the project was
// loaded (the bytes the allow step hashed), else the embedded default.
func layout(p *project.Project) []byte {
	if p.Snap.LayoutRel != "" {
		return p.Snap.Layout
	}
	return layouts.Default
}

// Attach ensures the VM, connects, and attaches the terminal to the
// project's Zellij session, reconnecting by itself when the link drops. It
// returns the remote exit status of a clean end (detach or quit).
func (m *Manager) Attach(ctx context.Context, p *project.Project, s limaconfig.Settings, t *sshx.Terminal, o AttachOptions) (int, error) {
	kdl := layout(p)
	// Zellij's output is watched for the keyboard levels it pushes, which
	// a lost link leaves pushed on the host.
	modes := ui.WatchModes(t.Out)
	termChecked := false
	if o.Reconnect <= 0 {
		o.Reconnect = DefaultReconnect
	}
	attempt := func(ctx context.Context, n int, until time.Time) (int, bool, error) {
		inst, err := m.VM.Ensure(ctx, p, s, n == 0)
		if err != nil {
			return -1, false, err
		}
		l, err := m.connect(ctx, inst, until)
		if err != nil {
			return -1, false, err
		}
		defer l.Close()
		if n > 0 {
			t.Discard()
		}
		if !termChecked {
			if o.Term, err = guestTerm(ctx, l, t, o.Term); err != nil {
				return -1, false, &sshx.NotStartedError{Err: err}
			}
			termChecked = true
		}
		code, err := m.attachOnce(ctx, l, p, kdl, t, modes, o, n == 0)
		var ns *sshx.NotStartedError
		return code, err != nil && !errors.As(err, &ns), err
	}
	onLost := func(n int) {
		// Zellij 0.45 leaves the alternate screen, mouse reporting,
		// bracketed paste, focus reporting, theme notifications and the
		// kitty keyboard levels it pushed on: turn them off before writing
		// to the host (else Ctrl-C arrives as ESC[99;5u).
		t.UI.ResetScreen(modes)
		t.UI.Tell("connection to %s lost; reconnecting (attempt %d)…", p.VM, n)
	}
	return reconnect(ctx, p.VM, o.Reconnect, attempt, onLost)
}

func (m *Manager) attachOnce(ctx context.Context, c link, p *project.Project, kdl []byte, t *sshx.Terminal, stdout io.Writer, o AttachOptions, first bool) (int, error) {
	z, err := release.Ensure(ctx, runner{c}, m.zellijCache(p), zellijOptions(p))
	var lost *sshx.LostError
	switch {
	case errors.As(err, &lost):
		return -1, &sshx.NotStartedError{Err: err}
	case errors.As(err, new(*zellij.MissingError)):
		return -1, hint.Wrap(err,
			"let sysvm install its pinned Zellij: remove `install: false` under `zellij:` in sysvm.yaml",
			"or install it in the VM yourself (https://zellij.dev/documentation/installation)",
			"sysvm shell  (a plain shell in the VM works without it)")
	case err != nil:
		return -1, err
	}
	out, errOut, code, err := output(ctx, c, zellij.Command{Argv: zellij.StageLayoutArgv(p.Session())}.Line(), bytes.NewReader(kdl))
	if err != nil {
		return -1, &sshx.NotStartedError{Err: err}
	}
	if code != 0 {
		return -1, fmt.Errorf("copying the layout into %s failed (exit %d): %s", p.VM, code, strings.TrimSpace(string(errOut)))
	}
	layoutPath := strings.TrimSpace(string(out))
	if first && o.Fresh {
		if err := deleteIfExited(ctx, c, z.Path, p.VM, p.Session()); err != nil {
			return -1, &sshx.NotStartedError{Err: err}
		}
	}
	cmd := zellij.Command{Dir: p.Dir, Env: limaconfig.GuestEnv(p), Argv: zellij.LockedAttachArgv(z.Path, layoutPath, p.Session(), release.AtLeast(z.Version, zellij.QuietSince))}
	ch, err := c.NewChannel()
	if err != nil {
		return -1, &sshx.NotStartedError{Err: err}
	}
	return t.Run(ctx, ch, sshx.Session{Command: cmd.Line(), PTY: true, Term: o.Term, ForwardAgent: c.ForwardAgent(), AuthSock: os.Getenv("SSH_AUTH_SOCK"), Stdout: stdout})
}

// Sessions lists the Zellij sessions in the project's VM, which must run.
func (m *Manager) Sessions(ctx context.Context, p *project.Project) ([]zellij.Session, error) {
	inst, err := m.VM.Inspect(ctx, p.VM)
	if err != nil {
		return nil, err
	}
	if inst == nil || inst.Status != lima.StatusRunning {
		status := vm.StateNotCreated
		if inst != nil {
			status = inst.Status
		}
		return nil, hint.Wrap(fmt.Errorf("VM %s is %s", p.VM, status), "sysvm up")
	}
	_, ss, err := m.Inspect(ctx, p, inst)
	return ss, err
}

// WriteSessions writes the VM's Zellij sessions as `sysvm sessions` lists
// them, marking the project's own (named this).
func WriteSessions(w io.Writer, ss []zellij.Session, this string) {
	for _, s := range ss {
		mark := ""
		if s.Name == this {
			mark = "  (this project)"
		}
		fmt.Fprintf(w, "%s\n", display.Safe(fmt.Sprintf("%s\t%s\tcreated %s ago%s", s.Name, s.State(), s.Created, mark)))
	}
}

// Inspect finds the zellij the running VM inst would use, without
// installing one, and lists its sessions.
func (m *Manager) Inspect(ctx context.Context, p *project.Project, inst *lima.Instance) (*release.Zellij, []zellij.Session, error) {
	l, err := m.connect(ctx, inst, time.Now())
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	z, ok, err := release.Inspect(ctx, runner{l}, m.zellijCache(p), zellijOptions(p))
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, hint.Wrap(&zellij.MissingError{VM: inst.Name}, "sysvm attach  (installs sysvm's pinned Zellij)")
	}
	ss, err := sessions(ctx, l, z.Path, inst.Name)
	return &z, ss, err
}

func sessions(ctx context.Context, c link, bin, vm string) ([]zellij.Session, error) {
	out, errOut, code, err := output(ctx, c, zellij.Command{Argv: zellij.ListArgv(bin)}.Line(), nil)
	if err != nil {
		return nil, err
	}
	switch {
	case code == 0:
		return zellij.ParseList(string(out)), nil
	case strings.Contains(string(errOut), zellij.NoSessions):
		return nil, nil
	case code == 127:
		return nil, &zellij.MissingError{VM: vm}
	}
	return nil, fmt.Errorf("zellij list-sessions failed (exit %d): %s", code, strings.TrimSpace(string(errOut)))
}

func deleteIfExited(ctx context.Context, c link, bin, vm, name string) error {
	ss, err := sessions(ctx, c, bin, vm)
	if err != nil {
		return err
	}
	if s, ok := zellij.Find(ss, name); !ok || !s.Exited {
		return nil
	}
	_, errOut, code, err := output(ctx, c, zellij.Command{Argv: zellij.DeleteArgv(bin, name)}.Line(), nil)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("deleting the dead session %s failed (exit %d): %s", name, code, strings.TrimSpace(string(errOut)))
	}
	return nil
}

// Shell runs a login shell, or argv, in the project directory in the VM.
// When the VM answers on the port of its last start, no limactl runs at
// all: that is the warm path a `cd` takes. Otherwise (stopped, missing,
// moved) it brings the VM up first.
func (m *Manager) Shell(ctx context.Context, p *project.Project, s limaconfig.Settings, t *sshx.Terminal, argv []string, termName string) (int, error) {
	if len(argv) == 0 {
		argv = zellij.LoginShellArgv()
	}
	cmd := zellij.Command{Dir: p.Dir, Env: limaconfig.GuestEnv(p), Argv: argv}
	sess := sshx.Session{Command: cmd.Line(), PTY: t.IsTTY(), Term: termName, AuthSock: os.Getenv("SSH_AUTH_SOCK")}
	if l, err := m.dialer().quickLink(ctx, p.VM); err == nil {
		code, err := m.run(ctx, l, t, sess)
		var ns *sshx.NotStartedError
		if !errors.As(err, &ns) {
			return code, err
		}
		if m.Log != nil {
			m.Log.Debug("warm path failed; bringing the VM up", "err", err)
		}
	}
	inst, err := m.VM.Up(ctx, p, s)
	if err != nil {
		return -1, err
	}
	l, err := m.connect(ctx, inst, time.Now().Add(firstWait))
	if err != nil {
		return -1, err
	}
	code, err := m.run(ctx, l, t, sess)
	var ns *sshx.NotStartedError
	if errors.As(err, &ns) {
		return -1, sshError(inst.Name, ns.Err)
	}
	return code, err
}

// run runs one session on l.
func (m *Manager) run(ctx context.Context, l link, t *sshx.Terminal, s sshx.Session) (int, error) {
	defer l.Close()
	ch, err := l.NewChannel()
	if err != nil {
		return -1, &sshx.NotStartedError{Err: err}
	}
	s.ForwardAgent = l.ForwardAgent()
	code, err := t.Run(ctx, ch, s)
	var lost *sshx.LostError
	var ns *sshx.NotStartedError
	switch {
	case err != nil && ctx.Err() != nil:
		return -1, hint.ErrInterrupted
	case errors.As(err, &lost) && !errors.As(err, &ns):
		return -1, fmt.Errorf("%w: %v", hint.ErrUnreachable, err)
	}
	return code, err
}

// zellijCache is the host's cache of the pinned Zellij, downloading from
// $SYSVM_ZELLIJ_URL, else the project's zellij.url, else the release, and
// holding the binary to the project's zellij.sha256 when it sets one.
func (m *Manager) zellijCache(p *project.Project) *release.Cache {
	c := m.Zellij
	c.Base = release.Base(m.ZellijURL, p.File.Zellij.URL)
	c.Pin = p.File.Zellij.SHA256
	return &c
}

// zellijOptions are the project's zellij: settings that concern the VM.
func zellijOptions(p *project.Project) release.Options {
	return release.Options{VM: p.VM, Path: p.File.Zellij.Path, NoInstall: p.File.Zellij.NoInstall()}
}
