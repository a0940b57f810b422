package broker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/state"
)

// serve runs a daemon on a socket in a temporary directory and returns its
// client and a channel closed when Serve returns.
func serve(t *testing.T) (*Client, <-chan struct{}) {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "broker-") // unix socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sd := state.Dir(filepath.Join(dir, "state"))
	d := &Daemon{State: sd, Socket: filepath.Join(dir, "run", "broker.sock"), Idle: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Serve(ctx); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	c := &Client{Socket: d.Socket, State: sd}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := c.request(request{Op: "ping"}, time.Second); err == nil {
			return c, done
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not answer")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDaemonRequests(t *testing.T) {
	c, _ := serve(t)
	rep, err := c.request(request{Op: "ping"}, time.Second)
	if err != nil || !rep.OK || rep.PID != os.Getpid() {
		t.Fatalf("ping: %+v, %v", rep, err)
	}
	rep, err = c.request(request{Op: "launch-missiles"}, time.Second)
	if err != nil || rep.OK || !strings.Contains(rep.Error, `unknown request "launch-missiles"`) {
		t.Fatalf("unknown op: %+v, %v", rep, err)
	}
	vms, ok := c.Status()
	if !ok || len(vms) != 0 {
		t.Fatalf("status of an idle daemon: %+v, %v", vms, ok)
	}
	// A connect to a VM whose ssh.config does not exist fails with the kind
	// the client rebuilds, not as an unavailable broker.
	err = c.Connect(context.Background(), "gone-dev", filepath.Join(t.TempDir(), "ssh.config"))
	var ua *UnavailableError
	if err == nil || errors.As(err, &ua) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("connect to a missing config: %v", err)
	}
}

func TestDaemonStop(t *testing.T) {
	c, done := serve(t)
	pid, err := c.Stop()
	if err != nil || pid != os.Getpid() {
		t.Fatalf("stop: pid %d, %v", pid, err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon did not exit after stop")
	}
	if _, err := os.Stat(c.Socket); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	if _, err := c.Stop(); !errors.Is(err, ErrNotRunning) {
		t.Errorf("second stop: %v, want ErrNotRunning", err)
	}
}

func TestSecondDaemonRefused(t *testing.T) {
	c, _ := serve(t)
	d := &Daemon{State: c.State, Socket: c.Socket, Idle: time.Minute}
	if err := d.Serve(context.Background()); !errors.Is(err, ErrDaemonRunning) {
		t.Fatalf("second Serve: %v, want ErrDaemonRunning", err)
	}
}
