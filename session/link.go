package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/sshx"
)

// link is a way to open channels to one VM: this process's own SSH
// connection, or the broker process's.
type link interface {
	NewChannel() (sshx.Channel, error)
	ForwardAgent() bool
	Close() error
}

// dialer reaches running VMs.
type dialer interface {
	// openLink connects to the running VM inst.
	openLink(ctx context.Context, inst *lima.Instance) (link, error)
	// quickLink connects to the VM named vm with no limactl in between:
	// the warm path.
	quickLink(ctx context.Context, vm string) (link, error)
}

// dialer is the fake a test gave, else the Manager itself.
func (m *Manager) dialer() dialer {
	if m.dial != nil {
		return m.dial
	}
	return m
}

// direct is this process's own connection.
type direct struct{ c *sshx.Client }

func (d direct) NewChannel() (sshx.Channel, error) { return d.c.NewChannel() }
func (d direct) ForwardAgent() bool                { return d.c.Config.ForwardAgent }
func (d direct) Close() error                      { return d.c.Close() }

// relayed opens channels through the broker process.
type relayed struct {
	b            *broker.Client
	vm, cfgPath  string
	forwardAgent bool
}

func (r relayed) NewChannel() (sshx.Channel, error) { return r.b.Channel(r.vm, r.cfgPath), nil }
func (r relayed) ForwardAgent() bool                { return r.forwardAgent }
func (r relayed) Close() error                      { return nil }

// connect opens a link to the running VM with the ssh.config Lima wrote at
// its last start (the port changes at every start), waiting until the
// deadline for sshd to answer while the VM finishes booting.
func (m *Manager) connect(ctx context.Context, inst *lima.Instance, deadline time.Time) (link, error) {
	for {
		l, err := m.dialer().openLink(ctx, inst)
		if err == nil {
			return l, nil
		}
		if sshx.KindOf(err) != sshx.KindUnreachable || time.Now().After(deadline) {
			return nil, sshError(inst.Name, err)
		}
		select {
		case <-ctx.Done():
			return nil, hint.ErrInterrupted
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// openLink connects to a running VM: through the broker process when it is
// enabled and can be reached, else with a connection of this process's own.
func (m *Manager) openLink(ctx context.Context, inst *lima.Instance) (link, error) {
	cfgPath := inst.SSHConfig()
	if m.Broker != nil {
		err := m.Broker.Connect(ctx, inst.Name, cfgPath)
		if err == nil {
			cfg, _ := sshx.ReadConfig(cfgPath)
			return relayed{b: m.Broker, vm: inst.Name, cfgPath: cfgPath, forwardAgent: cfg != nil && cfg.ForwardAgent}, nil
		}
		var unavailable *broker.UnavailableError
		if !errors.As(err, &unavailable) {
			return nil, err
		}
		m.fallbackOnce.Do(func() {
			switch {
			case m.Log == nil:
			case errors.As(err, new(*broker.UntrustedError)):
				m.Log.Warn("broker socket refused; dialing the VM directly", "err", err)
			default:
				m.Log.Debug("broker unavailable; dialing directly", "err", err)
			}
		})
	}
	cfg, err := sshx.ReadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	if m.Log != nil {
		m.Log.Debug("ssh dial", "vm", inst.Name, "addr", cfg.Addr(), "user", cfg.User, "config", cfgPath)
	}
	c, err := sshx.Dial(ctx, cfg, sshx.Options{VM: inst.Name, HostKeys: m.HostKeys, Fingerprints: inst.ConsoleFingerprints})
	if err != nil {
		return nil, err
	}
	return direct{c}, nil
}

// pinWait bounds how long Pinner waits for the VM's sshd to answer.
const pinWait = time.Minute

// Pinner returns what vm.Manager.PinHostKey calls under the VM's lock
// after a start: a direct dial of the running VM inst with pinning allowed
// (sshx.Options.Pin), the key checked against the fingerprints its console
// printed, then hung up. It is the only dial that pins.
func Pinner(keys sshx.HostKeys) func(ctx context.Context, inst *lima.Instance) error {
	return func(ctx context.Context, inst *lima.Instance) error {
		deadline := time.Now().Add(pinWait)
		for {
			cfg, err := sshx.ReadConfig(inst.SSHConfig())
			if err == nil {
				var c *sshx.Client
				c, err = sshx.Dial(ctx, cfg, sshx.Options{VM: inst.Name, HostKeys: keys, Fingerprints: inst.ConsoleFingerprints, Pin: true})
				if err == nil {
					return c.Close()
				}
			}
			if sshx.KindOf(err) != sshx.KindUnreachable || time.Now().After(deadline) {
				return sshError(inst.Name, err)
			}
			select {
			case <-ctx.Done():
				return hint.ErrInterrupted
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
}

// quickLink is the warm path: the broker's connection (asked for nothing
// until the session itself) or a direct dial, to the VM named vm in
// LimaHome as its directory shows it (see lima.InstanceAt), with no
// limactl in between.
func (m *Manager) quickLink(ctx context.Context, vm string) (link, error) {
	inst := lima.InstanceAt(m.LimaHome, vm)
	// The ssh.config of a VM whose host agent is gone names a port that
	// anyone may have taken since.
	if !inst.HostAgentRunning() {
		return nil, fmt.Errorf("the host agent of %s is not running", vm)
	}
	cfgPath := inst.SSHConfig()
	cfg, err := sshx.ReadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	if m.Broker != nil && m.Broker.Running() {
		return relayed{b: m.Broker, vm: inst.Name, cfgPath: cfgPath, forwardAgent: cfg.ForwardAgent}, nil
	}
	return m.openLink(ctx, inst)
}

// sshError adds what the user can do to an SSH failure.
func sshError(vmName string, err error) error {
	switch sshx.KindOf(err) {
	case sshx.KindHostKey:
		var hk *sshx.HostKeyChangedError
		if errors.As(err, &hk) && hk.Console {
			return hint.Wrap(err, "something other than the VM answers on its SSH port: check `limactl list "+vmName+"` and what listens on that port")
		}
		return hint.Wrap(err, "if you recreated the VM outside sysvm, trust its new key: sysvm forget-host-key "+strings.TrimSuffix(vmName, project.VMSuffix),
			"otherwise something else is answering on the VM's SSH port: check `limactl list "+vmName+"`")
	case sshx.KindUnreachable:
		return hint.Wrap(fmt.Errorf("%w: %v", hint.ErrUnreachable, err), "sysvm status", "limactl list "+vmName)
	case sshx.KindConfig, sshx.KindConfigMissing:
		return hint.Wrap(err, fmt.Sprintf("restart the VM so Lima writes it again: sysvm stop && sysvm up  (or limactl stop -f %s)", vmName))
	case sshx.KindKey:
		return hint.Wrap(err, "Lima keeps it in $LIMA_HOME/_config/user; check that it is readable, or restore it and restart the VM")
	case sshx.KindNoPin:
		return hint.Wrap(err, "sysvm up  (it checks the VM and pins its key under the VM's lock)")
	}
	return err
}

// runner runs commands on a link for the Zellij installer.
type runner struct{ l link }

func (r runner) Output(ctx context.Context, cmd string, stdin io.Reader) ([]byte, []byte, int, error) {
	return output(ctx, r.l, cmd, stdin)
}

// output runs a command without a PTY on l, feeding it stdin (nil: none),
// and returns its stdout, stderr and exit status.
func output(ctx context.Context, l link, cmd string, stdin io.Reader) ([]byte, []byte, int, error) {
	ch, err := l.NewChannel()
	if err != nil {
		return nil, nil, -1, err
	}
	defer ch.Close()
	var o, e syncBuffer
	in, err := ch.Start(cmd, nil, "", &o, &e)
	if err != nil {
		return nil, nil, -1, err
	}
	if stdin != nil {
		if _, err := io.Copy(in, stdin); err != nil {
			return nil, nil, -1, &sshx.LostError{Err: err}
		}
	}
	in.Close()
	code, err := sshx.Wait(ctx, ch)
	return o.Bytes(), e.Bytes(), code, err
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}
