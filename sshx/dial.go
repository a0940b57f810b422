package sshx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// HostKeys is where pinned host keys live (sysvm's state directory).
type HostKeys interface {
	HostKey(vm string) (key string, ok bool, err error)
	// PinHostKey records vm's key; firstUse says nothing vouched for it
	// (the guest printed no fingerprints).
	PinHostKey(vm, key string, firstUse bool) error
}

// NoPinError means a dial that may only verify found nothing to verify
// the VM's key against: no pin yet, or a pin the guest's console shows is
// from an earlier boot. Pins are made only by a dial with Options.Pin, which
// sysvm makes under the VM's lock right after it started the VM; the
// caller goes through that step and dials again. Nothing was sent to the
// other side: the key is checked before authentication.
type NoPinError struct {
	VM string
	// Stale means a pin exists, but the console shows a newer key.
	Stale bool
	// msg is the message of an error rebuilt on this side of the broker.
	msg string
}

func (e *NoPinError) Error() string {
	switch {
	case e.msg != "":
		return e.msg
	case e.Stale:
		return fmt.Sprintf("the host key of VM %s changed with its last boot; sysvm pins the new one only while it holds the VM's lock", e.VM)
	}
	return fmt.Sprintf("no host key is pinned for VM %s; sysvm pins one only while it holds the VM's lock, after starting it", e.VM)
}

// HostKeyChangedError means the VM presented a key other than the pinned one.
type HostKeyChangedError struct {
	// VM names the pin; WantFP and GotFP are the SHA256 fingerprints of the
	// pinned key and the presented one.
	VM            string
	WantFP, GotFP string
	// Console is set when the key was checked against the fingerprints
	// the guest printed on its console.
	Console bool
}

func (e *HostKeyChangedError) Error() string {
	if e.Console {
		return fmt.Sprintf("the VM %s presented host key %s, which is not among the keys its console printed at boot: refusing to connect", e.VM, e.GotFP)
	}
	return fmt.Sprintf("the host key of VM %s has changed (pinned %s, now %s): refusing to connect", e.VM, e.WantFP, e.GotFP)
}

// Options tune a connection.
type Options struct {
	// VM names the pin in HostKeys.
	VM       string
	HostKeys HostKeys
	// Fingerprints, when set, returns the SHA256 fingerprints ("SHA256:…")
	// of the host keys the guest printed on its console in its current
	// boot, however the caller learns them; when it returns any, only a
	// key among them is accepted (and pinned). It is called only when the
	// pin does not match. Nil, or no fingerprints: pins alone decide.
	Fingerprints func() (map[string]bool, error)
	// Pin lets this dial record the key (the first one, or a new one the
	// console vouches for). Only the step that starts the VM, under its
	// lock, sets it; every other dial only verifies and fails with a
	// *NoPinError where it would have pinned.
	Pin bool
	// Timeout bounds the TCP connect and the handshake (default 10s).
	Timeout time.Duration
	// KeepAlive is the interval between keepalives (default 3s); after
	// three unanswered ones the connection is closed, so a dead link is
	// noticed within about ten seconds.
	KeepAlive time.Duration
}

// Client is an authenticated connection to a VM.
type Client struct {
	*ssh.Client
	Config *Config
	done   chan struct{}
	dead   chan struct{}

	agentOnce sync.Once
	agentSock string
	agentErr  error
}

// Alive reports whether the connection is still up.
func (c *Client) Alive() bool {
	select {
	case <-c.dead:
		return false
	default:
		return true
	}
}

// Dial connects and authenticates with the identity file in cfg, and with
// nothing else: the user's SSH agent is never offered to the VM for
// authentication (it is only forwarded into sessions that ask for it).
func Dial(ctx context.Context, cfg *Config, o Options) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 3 * time.Second
	}
	keyPEM, err := os.ReadFile(cfg.IdentityFile)
	if err != nil {
		return nil, &KeyError{Path: cfg.IdentityFile, Err: err}
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, &KeyError{Path: cfg.IdentityFile, Err: err}
	}
	auths := []ssh.AuthMethod{ssh.PublicKeys(signer)}
	cc := &ssh.ClientConfig{
		User:            cfg.User,
		Auth:            auths,
		HostKeyCallback: pinning(o.VM, o.HostKeys, o.Fingerprints, o.Pin),
		Timeout:         o.Timeout,
	}
	if len(cfg.Ciphers) > 0 {
		// Lima lists ciphers it prefers; keep x/crypto's defaults as fallbacks.
		cc.Config.Ciphers = append(append([]string{}, cfg.Ciphers...), ssh.SupportedAlgorithms().Ciphers...)
	}
	d := net.Dialer{Timeout: o.Timeout}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr())
	if err != nil {
		return nil, &UnreachableError{Addr: cfg.Addr(), Err: err}
	}
	_ = conn.SetDeadline(time.Now().Add(o.Timeout))
	sc, chans, reqs, err := ssh.NewClientConn(conn, cfg.Addr(), cc)
	if err != nil {
		conn.Close()
		var hk *HostKeyChangedError
		if errors.As(err, &hk) {
			return nil, hk
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("the VM refused sysvm's key %s as %s: %w", cfg.IdentityFile, cfg.User, err)
		}
		return nil, &UnreachableError{Addr: cfg.Addr(), Err: err}
	}
	_ = conn.SetDeadline(time.Time{})
	c := &Client{Client: ssh.NewClient(sc, chans, reqs), Config: cfg, done: make(chan struct{}), dead: make(chan struct{})}
	go func() {
		_ = c.Client.Wait()
		close(c.dead)
	}()
	go c.keepAlive(o.KeepAlive)
	return c, nil
}

// ForwardAgent forwards the SSH agent listening on sock on a session.
// The VM's agent channels name no session, so one connection serves one
// agent: a session asking for another agent is refused (open another
// connection for it).
func (c *Client) ForwardAgent(s *ssh.Session, sock string) error {
	if sock == "" {
		return errors.New("ForwardAgent is set but SSH_AUTH_SOCK is not")
	}
	c.agentOnce.Do(func() { c.agentSock, c.agentErr = sock, agent.ForwardToRemote(c.Client, sock) })
	if c.agentErr != nil {
		return c.agentErr
	}
	if c.agentSock != sock {
		return fmt.Errorf("this connection forwards the agent at %s, not %s", c.agentSock, sock)
	}
	return agent.RequestAgentForwarding(s)
}

// Close closes the connection and stops the keepalives.
func (c *Client) Close() error {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	return c.Client.Close()
}

// keepAlive closes the connection after three unanswered keepalives.
func (c *Client) keepAlive(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				c.Client.Close()
				return
			}
			missed = 0
		case <-time.After(every):
			missed++
			if missed >= 3 {
				c.Client.Close()
				return
			}
		case <-c.done:
			return
		}
	}
}

// KeyError means the identity Lima's ssh.config names cannot be used.
type KeyError struct {
	Path string
	Err  error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("the VM's SSH key %s cannot be used: %v", e.Path, e.Err)
}
func (e *KeyError) Unwrap() error { return e.Err }

// UnreachableError means the VM did not answer on its SSH port.
type UnreachableError struct {
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string { return fmt.Sprintf("cannot reach %s: %v", e.Addr, e.Err) }
func (e *UnreachableError) Unwrap() error { return e.Err }

// pinning accepts the pinned key of vm. Another key, or the first one, is
// pinned only by a dial that may pin (see Options.Pin), and only if the
// guest printed its fingerprint on its console in the current boot; when
// the console shows no fingerprints (an image that prints none), the first
// key is pinned on trust and a changed one refused. A dial that may not pin
// fails with *NoPinError where it would have. The console log is read only
// when the pin does not match, so the warm path costs nothing more.
func pinning(vm string, keys HostKeys, printed func() (map[string]bool, error), mayPin bool) ssh.HostKeyCallback {
	return func(_ string, _ net.Addr, key ssh.PublicKey) error {
		if keys == nil {
			return nil
		}
		got := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
		want, ok, err := keys.HostKey(vm)
		if err != nil {
			return err
		}
		wantFP := "none"
		if ok {
			if want == got {
				return nil
			}
			wantFP = "?"
			if pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(want)); err == nil {
				wantFP = ssh.FingerprintSHA256(pk)
				if bytes.Equal(pk.Marshal(), key.Marshal()) {
					return nil
				}
			}
		}
		gotFP := ssh.FingerprintSHA256(key)
		if printed != nil {
			fps, err := printed()
			if err != nil {
				return err
			}
			if len(fps) > 0 {
				switch {
				case !fps[gotFP]:
					return &HostKeyChangedError{VM: vm, WantFP: wantFP, GotFP: gotFP, Console: true}
				case !mayPin:
					return &NoPinError{VM: vm, Stale: ok}
				}
				return keys.PinHostKey(vm, got, false)
			}
		}
		switch {
		case ok:
			return &HostKeyChangedError{VM: vm, WantFP: wantFP, GotFP: gotFP}
		case !mayPin:
			return &NoPinError{VM: vm}
		}
		return keys.PinHostKey(vm, got, true)
	}
}
