package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestNoPinOnAFreedPort: a create fails, leaving an ssh.config that names a
// port nothing of the VM's listens on; another user (nobody) serves SSH on
// that port. `sysvm shell` sends that server nothing and pins none of its
// keys, through the broker and directly, with forwardAgent on: the warm
// path trusts no ssh.config whose host agent is gone, and pins are made
// only under the VM's lock after a start.
func TestNoPinOnAFreedPort(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root; this test needs root to act as another user")
		}
		t.Skip("needs root to listen as another user")
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			name := "freed" + m.name
			vm := name + "-dev"
			dir := e.project(name, "forwardAgent: true\n")
			e.Setenv("FAKELIMA_START_FAIL=1")
			if r := e.run(dir, "up"); r.ExitCode == 0 {
				t.Fatalf("the create was to fail: %s", r)
			}
			cfg, err := os.ReadFile(e.SSHConfig(vm))
			if err != nil {
				t.Fatalf("the failed create left no ssh.config: %v", err)
			}
			port := regexp.MustCompile(`(?m)^\s*Port\s+(\d+)`).FindSubmatch(cfg)
			if port == nil {
				t.Fatalf("no Port in ssh.config:\n%s", cfg)
			}
			log := filepath.Join(e.Root, "intruder.log")
			e.Setenv("FAKELIMA_START_FAIL=")
			stop := startIntruder(t, e.Root, string(port[1]), log)
			defer stop()

			// The VM can start now: sysvm starts it (on another port, the
			// freed one being taken) and pins its key, or fails; either way
			// the other user's server hears nothing.
			r := e.run(dir, "shell", "--", "echo", "secret-command")
			stop()
			got, _ := os.ReadFile(log)
			if len(got) > 0 {
				t.Errorf("the other user's server on the freed port heard from sysvm:\n%s\nsysvm: %s", got, r)
			}
			if p := e.pin(vm); p != "" && p != e.hostKey(vm) {
				t.Errorf("pinned %q, not the VM's key %q", p, e.hostKey(vm))
			}
		})
	}
}

// startIntruder runs TestIntruderHelper as the user nobody: an SSH server
// on 127.0.0.1:port that accepts any key and logs every connection,
// authentication, agent request and command to log.
func startIntruder(t *testing.T, root, port, log string) (stop func()) {
	t.Helper()
	// A directory the other user can write, beside the project (not above it).
	box := filepath.Join(root, "intruder")
	if err := os.MkdirAll(box, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(box, 0o777)
	os.Chmod(root, 0o755)
	self, _ := os.Executable()
	exe := filepath.Join(box, "intruder")
	copyFile(t, self, exe, 0o755)
	if err := os.WriteFile(log, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(log, 0o666)
	ready := filepath.Join(box, "ready")
	c := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", exe, "-test.run=^TestIntruderHelper$")
	c.Env = append(os.Environ(), "SYSVM_INTRUDER_PORT="+port, "SYSVM_INTRUDER_LOG="+log, "SYSVM_INTRUDER_READY="+ready)
	var out strings.Builder
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case <-done:
			t.Fatalf("the intruder exited: %s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatalf("the intruder did not listen within 10s: %s", out.String())
		}
	}
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		c.Process.Kill()
		<-done
	}
}

// TestIntruderHelper is the server startIntruder runs as another user.
func TestIntruderHelper(t *testing.T) {
	port := os.Getenv("SYSVM_INTRUDER_PORT")
	if port == "" {
		t.Skip("helper process only")
	}
	logf, err := os.OpenFile(os.Getenv("SYSVM_INTRUDER_LOG"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	say := func(format string, a ...any) { fmt.Fprintf(logf, format+"\n", a...) }
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			say("auth by %s with %s", c.User(), ssh.FingerprintSHA256(k))
			return &ssh.Permissions{}, nil
		},
	}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(os.Getenv("SYSVM_INTRUDER_READY"), nil, 0o644)
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		say("connection from %s", conn.RemoteAddr())
		go func() {
			_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
			if err != nil {
				say("handshake ended: %v", err)
				return
			}
			go ssh.DiscardRequests(reqs)
			for nc := range chans {
				say("channel %s", nc.ChannelType())
				ch, chReqs, err := nc.Accept()
				if err != nil {
					continue
				}
				go func() {
					for r := range chReqs {
						say("request %s %q", r.Type, r.Payload)
						r.Reply(true, nil)
					}
					ch.Close()
				}()
			}
		}()
	}
}
