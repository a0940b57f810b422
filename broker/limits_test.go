package broker

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysvm/sysvm/state"
)

// A request line over the cap is dropped unanswered, and the broker goes
// on serving.
func TestRequestLineCapped(t *testing.T) {
	c, _ := serve(t)
	conn, err := net.Dial("unix", c.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	huge := `{"op":"ping","vm":"` + strings.Repeat("x", maxRequest) + `"}` + "\n"
	go conn.Write([]byte(huge))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	// Closing with the rest unread resets the connection.
	if b, err := io.ReadAll(bufio.NewReader(conn)); len(b) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("an oversized request got %q, %v; want the connection closed unanswered", b, err)
	}
	if rep, err := c.request(request{Op: "ping"}, time.Second); err != nil || !rep.OK {
		t.Errorf("ping after the oversized request: %+v, %v", rep, err)
	}
}

// A client that connects and says nothing is dropped after the request
// deadline and does not keep the broker from idling out.
func TestSilentClientDoesNotKeepBrokerAlive(t *testing.T) {
	defer func(d time.Duration) { requestTimeout = d }(requestTimeout)
	requestTimeout = 300 * time.Millisecond
	dir := tempDir(t)
	d := &Daemon{State: state.Dir(dir + "/state"), Socket: dir + "/run/broker.sock", Idle: 500 * time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- d.Serve(context.Background()) }()
	var conn net.Conn
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var err error
		if conn, err = net.Dial("unix", d.Socket); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	began := time.Now()
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) || time.Since(began) > 2*time.Second {
		t.Errorf("the silent client was not dropped at the deadline: %v after %v", err, time.Since(began))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a silent client kept the broker from idling out")
	}
}

// A broker started with another state directory is not used: its pins
// and logs would be another's.
func TestBrokerOfAnotherStateDirectoryRefused(t *testing.T) {
	c, _ := serve(t)
	other := &Client{Socket: c.Socket, State: state.Dir(t.TempDir())}
	err := other.Connect(context.Background(), "x-dev", "/nonexistent/ssh.config")
	var ua *UnavailableError
	if !errors.As(err, &ua) || !strings.Contains(err.Error(), "uses the state directory "+string(c.State)) {
		t.Fatalf("Connect from another state directory: %v; want an unavailable broker naming its state directory", err)
	}
	if _, err := other.Channel("x-dev", "/nonexistent/ssh.config").Start("true", nil, "", io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "not "+string(other.State)) {
		t.Fatalf("a session from another state directory: %v", err)
	}
}
