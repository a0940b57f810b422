package broker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sysvm/sysvm/layouts"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/zellij"
)

// ErrNested means sysvm was asked to attach from inside a VM or a local Zellij.
var ErrNested = errors.New("refusing to nest")

// Guard refuses to attach where it would nest: inside a sysvm VM (every
// session there carries SYSINIT_IN_VM=1), or inside a local Zellij unless
// forced.
func Guard(getenv func(string) string, force bool) error {
	if getenv("SYSINIT_IN_VM") != "" {
		return hint(fmt.Errorf("%w: this shell is already inside a sysvm VM (SYSINIT_IN_VM is set)", ErrNested),
			"detach (Ctrl-o d) to get back to the host, then run sysvm there")
	}
	if getenv("ZELLIJ") != "" && !force {
		return hint(fmt.Errorf("%w: this shell is inside a local Zellij session (ZELLIJ is set); attaching would put Zellij inside Zellij", ErrNested),
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
	// Reconnect is how long to keep trying after the link drops (0: 10 min).
	Reconnect time.Duration
}

// layout returns the project's layout: .sysvm/layout.kdl, else the file
// sysvm.yaml names, else the embedded default.
func layout(p *project.Project) ([]byte, error) {
	own := filepath.Join(p.Dir, ".sysvm", "layout.kdl")
	if b, err := os.ReadFile(own); err == nil {
		return b, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", own, err)
	}
	if name := p.File.Layout; name != "" {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.Dir, name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, hint(fmt.Errorf("the layout %s named in sysvm.yaml cannot be read: %w", path, err),
				"fix `layout:` in "+filepath.Join(p.Dir, project.FileName))
		}
		return b, nil
	}
	return layouts.Default, nil
}

// connect opens a link to the running VM with the ssh.config Lima wrote at
// its last start (the port changes at every start), waiting up to wait for
// sshd to answer while the VM finishes booting.
func (b *Broker) connect(ctx context.Context, inst *lima.Instance, wait time.Duration) (link, error) {
	deadline := time.Now().Add(wait)
	for {
		l, err := b.openLink(ctx, inst)
		if err == nil {
			return l, nil
		}
		var ur *sshx.UnreachableError
		if !errors.As(err, &ur) || time.Now().After(deadline) {
			return nil, b.sshError(inst, err)
		}
		select {
		case <-ctx.Done():
			return nil, ErrInterrupted
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func (b *Broker) dialOnce(ctx context.Context, inst *lima.Instance) (*sshx.Client, error) {
	path := inst.SSHConfigFile
	if path == "" {
		path = filepath.Join(inst.Dir, "ssh.config")
	}
	cfg, err := sshx.ReadConfig(path)
	if err != nil {
		return nil, err
	}
	if b.Log != nil {
		b.Log.Debug("ssh dial", "vm", inst.Name, "addr", cfg.Addr(), "user", cfg.User, "config", path)
	}
	return sshx.Dial(ctx, cfg, sshx.Options{VM: inst.Name, HostKeys: b.State})
}

func (b *Broker) sshError(inst *lima.Instance, err error) error {
	var hk *sshx.HostKeyChangedError
	var ur *sshx.UnreachableError
	var ce *sshx.ConfigError
	switch {
	case errors.As(err, &hk):
		return hint(err, "if you recreated the VM outside sysvm, trust its new key: sysvm forget-host-key "+strings.TrimSuffix(inst.Name, project.VMSuffix),
			"otherwise something else is answering on the VM's SSH port: check `limactl list "+inst.Name+"`")
	case errors.As(err, &ur):
		return hint(fmt.Errorf("%w: %v", ErrUnreachable, err), "sysvm status", "limactl list "+inst.Name)
	case errors.As(err, &ce):
		return hint(err, fmt.Sprintf("restart the VM so Lima writes it again: sysvm stop && sysvm up  (or limactl stop -f %s)", inst.Name))
	case errors.As(err, new(*sshx.KeyError)):
		return hint(err, "Lima keeps it in $LIMA_HOME/_config/user; check that it is readable, or restore it and restart the VM")
	}
	return err
}

// Attach ensures the VM, connects, and attaches the terminal to the
// project's Zellij session, reconnecting by itself when the link drops. It
// returns the remote exit status of a clean end (detach or quit).
func (b *Broker) Attach(ctx context.Context, p *project.Project, s limaconfig.Settings, t *sshx.Terminal, o AttachOptions) (int, error) {
	kdl, err := layout(p)
	if err != nil {
		return -1, err
	}
	if o.Reconnect <= 0 {
		o.Reconnect = 10 * time.Minute
	}
	var lostAt time.Time
	for attempt := 0; ; attempt++ {
		inst, err := b.ensure(ctx, p, s, attempt == 0)
		if err != nil {
			return -1, err
		}
		wait := 2 * time.Minute
		if attempt > 0 {
			wait = time.Until(lostAt.Add(o.Reconnect))
		}
		l, err := b.connect(ctx, inst, wait)
		if err != nil {
			return -1, err
		}
		if attempt > 0 {
			t.Discard()
		}
		code, err := b.attachOnce(ctx, l, p, kdl, t, o, attempt == 0)
		l.Close()
		var lost *sshx.LostError
		switch {
		case err == nil:
			return code, nil
		case ctx.Err() != nil:
			return -1, ErrInterrupted
		case !errors.As(err, &lost):
			return -1, err
		}
		if attempt == 0 || lostAt.IsZero() {
			lostAt = time.Now()
		}
		if time.Since(lostAt) > o.Reconnect {
			return -1, hint(fmt.Errorf("%w: gave up reconnecting to %s after %s", ErrUnreachable, p.VM, o.Reconnect), "sysvm status")
		}
		if t.IsTTY() {
			// Zellij may have left the alternate screen, mouse reporting and
			// bracketed paste on: turn them off before writing to the host.
			fmt.Fprint(t.Out, "\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\r\n")
		}
		fmt.Fprintf(t.Err, "sysvm: connection to %s lost; reconnecting (attempt %d)…\n", p.VM, attempt+1)
		select {
		case <-ctx.Done():
			return -1, ErrInterrupted
		case <-time.After(backoff(attempt)):
		}
	}
}

// backoff grows to a cap of two seconds; Connect itself polls every 300 ms,
// so once the VM answers the next try follows within a second.
func backoff(attempt int) time.Duration {
	d := time.Duration(attempt+1) * 200 * time.Millisecond
	if d > 2*time.Second {
		d = 2 * time.Second
	}
	return d
}

func (b *Broker) attachOnce(ctx context.Context, c link, p *project.Project, kdl []byte, t *sshx.Terminal, o AttachOptions, first bool) (int, error) {
	out, errOut, code, err := output(ctx, c, zellij.Command{Argv: zellij.StageLayoutArgv(p.Session())}.Line(), kdl)
	if err != nil {
		return -1, err
	}
	switch {
	case code == zellij.NoZellijStatus:
		return -1, hint(&zellij.MissingError{VM: p.VM},
			"install it in the VM, e.g. with `provision:` in sysvm.yaml (https://zellij.dev/documentation/installation)",
			"sysvm shell  (a plain shell in the VM works without it)")
	case code != 0:
		return -1, fmt.Errorf("copying the layout into %s failed (exit %d): %s", p.VM, code, strings.TrimSpace(string(errOut)))
	}
	layoutPath := strings.TrimSpace(string(out))
	if first && o.Fresh {
		if err := deleteIfExited(ctx, c, p.VM, p.Session()); err != nil {
			return -1, err
		}
	}
	cmd := zellij.Command{Dir: p.Dir, Env: limaconfig.GuestEnv(p), Argv: zellij.AttachArgv(layoutPath, p.Session())}
	ch, err := c.NewChannel()
	if err != nil {
		return -1, err
	}
	return t.Run(ctx, ch, sshx.Session{Command: cmd.Line(), PTY: true, Term: o.Term, ForwardAgent: c.ForwardAgent(), AuthSock: os.Getenv("SSH_AUTH_SOCK")})
}

// Sessions lists the Zellij sessions in the running VM.
func (b *Broker) Sessions(ctx context.Context, inst *lima.Instance) ([]zellij.Session, error) {
	l, err := b.connect(ctx, inst, 0)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return sessions(ctx, l, inst.Name)
}

func sessions(ctx context.Context, c link, vm string) ([]zellij.Session, error) {
	out, errOut, code, err := output(ctx, c, zellij.Command{Argv: zellij.ListArgv()}.Line(), nil)
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

func deleteIfExited(ctx context.Context, c link, vm, name string) error {
	ss, err := sessions(ctx, c, vm)
	if err != nil {
		return err
	}
	if s, ok := zellij.Find(ss, name); !ok || !s.Exited {
		return nil
	}
	_, errOut, code, err := output(ctx, c, zellij.Command{Argv: zellij.DeleteArgv(name)}.Line(), nil)
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
func (b *Broker) Shell(ctx context.Context, p *project.Project, s limaconfig.Settings, t *sshx.Terminal, argv []string, termName string) (int, error) {
	if len(argv) == 0 {
		argv = zellij.LoginShellArgv()
	}
	cmd := zellij.Command{Dir: p.Dir, Env: limaconfig.GuestEnv(p), Argv: argv}
	sess := sshx.Session{Command: cmd.Line(), PTY: t.IsTTY(), Term: termName, AuthSock: os.Getenv("SSH_AUTH_SOCK")}
	if l, err := b.quickLink(ctx, filepath.Join(b.LimaHome, p.VM)); err == nil {
		code, err := b.run(ctx, l, t, sess)
		var ns *sshx.NotStartedError
		if !errors.As(err, &ns) {
			return code, err
		}
		if b.Log != nil {
			b.Log.Debug("warm path failed; bringing the VM up", "err", err)
		}
	}
	inst, err := b.Up(ctx, p, s)
	if err != nil {
		return -1, err
	}
	l, err := b.connect(ctx, inst, 2*time.Minute)
	if err != nil {
		return -1, err
	}
	code, err := b.run(ctx, l, t, sess)
	var ns *sshx.NotStartedError
	if errors.As(err, &ns) {
		return -1, b.sshError(inst, ns.Err)
	}
	return code, err
}

// run runs one session on l.
func (b *Broker) run(ctx context.Context, l link, t *sshx.Terminal, s sshx.Session) (int, error) {
	defer l.Close()
	ch, err := l.NewChannel()
	if err != nil {
		return -1, &sshx.NotStartedError{Err: err}
	}
	s.ForwardAgent = l.ForwardAgent()
	code, err := t.Run(ctx, ch, s)
	var lost *sshx.LostError
	var ns *sshx.NotStartedError
	if errors.As(err, &lost) && !errors.As(err, &ns) {
		return -1, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	return code, err
}
