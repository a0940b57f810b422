package broker

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/sshx"
)

// vmLink is the daemon's connections to one VM: usually one, more when
// sshd refuses further sessions on it (MaxSessions, 10 by default in
// OpenSSH) or when sessions forward different SSH agents.
type vmLink struct {
	mu        sync.Mutex
	conns     []*pooled
	cfgPath   string
	cfgStamp  string
	clients   int
	idleSince time.Time
}

// pooled is one SSH connection of a vmLink.
type pooled struct {
	c     *sshx.Client
	since time.Time
	// agent is the agent socket forwarded on this connection: the VM's
	// agent channels carry no session, so a connection serves one agent.
	agent string
	// sessions counts the channels open on it.
	sessions int
}

// prune drops dead connections; v.mu is held.
func (v *vmLink) prune() {
	live := v.conns[:0]
	for _, pc := range v.conns {
		if pc.c.Alive() {
			live = append(live, pc)
		} else {
			pc.c.Close()
		}
	}
	clear(v.conns[len(live):])
	v.conns = live
}

// closeAll closes every connection; v.mu is held.
func (v *vmLink) closeAll() {
	for _, pc := range v.conns {
		pc.c.Close()
	}
	v.conns = nil
}

// live reports whether any connection is up, and since when the oldest is.
func (v *vmLink) live() (bool, time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.prune()
	if len(v.conns) == 0 {
		return false, time.Time{}
	}
	return true, v.conns[0].since
}

// dial adds a connection made with the ssh.config at cfgPath; v.mu is held.
func (d *Daemon) dial(ctx context.Context, v *vmLink, vm string) (*pooled, error) {
	cfg, err := sshx.ReadConfig(v.cfgPath)
	if err != nil {
		return nil, err
	}
	c, err := sshx.Dial(ctx, cfg, sshx.Options{VM: vm, HostKeys: d.State, Fingerprints: lima.InstanceOf(v.cfgPath).ConsoleFingerprints})
	if err != nil {
		return nil, err
	}
	pc := &pooled{c: c, since: time.Now()}
	v.conns = append(v.conns, pc)
	d.logf("connected", "vm", vm, "addr", cfg.Addr(), "connections", len(v.conns))
	return pc, nil
}

// refused reports whether sshd declined a channel on a healthy connection
// (its session limit), as opposed to a connection that died.
func refused(err error) bool {
	var oce *ssh.OpenChannelError
	return errors.As(err, &oce)
}

// channel opens a session channel to the VM for a session forwarding the
// agent at agent ("" for none). It tries the live connections that can
// carry that agent; when sshd refuses a channel there, the connection stays
// up for its other sessions, and when every one has refused or none fits,
// it dials another. release must be called when the channel ends.
func (d *Daemon) channel(ctx context.Context, vm, cfgPath, agent string) (v *vmLink, ch sshx.Channel, release func(), err error) {
	if v, err = d.link(ctx, vm, cfgPath); err != nil {
		return nil, nil, nil, err
	}
	tried := map[*pooled]bool{}
	for {
		v.mu.Lock()
		v.prune()
		var pc *pooled
		for _, c := range v.conns {
			if !tried[c] && (agent == "" || c.agent == "" || c.agent == agent) {
				pc = c
				break
			}
		}
		fresh := pc == nil
		if fresh {
			if pc, err = d.dial(ctx, v, vm); err != nil {
				v.mu.Unlock()
				return nil, nil, nil, err
			}
		}
		pc.sessions++
		if agent != "" {
			pc.agent = agent
		}
		v.mu.Unlock()

		// Opening a channel waits for the VM: never under v.mu.
		ch, err := pc.c.NewChannel()
		if err == nil {
			return v, ch, d.releaser(v, pc), nil
		}
		tried[pc] = true
		v.mu.Lock()
		pc.sessions--
		if !refused(err) {
			pc.c.Close() // it died: prune drops it
		}
		v.mu.Unlock()
		if fresh {
			return nil, nil, nil, err
		}
	}
}

// releaser returns the function that ends a channel's claim on pc, closing
// an extra connection once its last session ends.
func (d *Daemon) releaser(v *vmLink, pc *pooled) func() {
	return func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		pc.sessions--
		if pc.sessions > 0 || len(v.conns) == 0 || v.conns[0] == pc {
			return
		}
		pc.c.Close()
		v.prune()
	}
}
