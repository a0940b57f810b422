package broker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/state"
)

// TestMain doubles as a fake broker run as another user: with
// BROKER_TEST_LISTEN set it listens there, says "ready", reports how many
// bytes each client sent ("got N"), and on SIGTERM takes the clients
// still queued, waits for them and says "done".
func TestMain(m *testing.M) {
	if sock := os.Getenv("BROKER_TEST_LISTEN"); sock != "" {
		os.Exit(fakeListener(sock))
	}
	os.Exit(m.Run())
}

func fakeListener(sock string) int {
	l, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	// On SIGTERM, accept what is queued already, then stop.
	go func() { <-term; l.(*net.UnixListener).SetDeadline(time.Now().Add(300 * time.Millisecond)) }()
	fmt.Println("ready")
	var wg sync.WaitGroup
	for {
		c, err := l.Accept()
		if err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, _ := io.Copy(io.Discard, c)
			fmt.Println("got", n)
		}()
	}
	wg.Wait()
	fmt.Println("done")
	return 0
}

// nobody returns the uid of Debian's nobody user, skipping unless the
// test runs as root (only root can act as another user).
func nobody(t *testing.T) int {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root: the test runs a listener as the user nobody")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}

func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "broker-") // unix socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// A listener started by another user on the socket path, in a directory
// that is (by then) the user's own, receives not one byte.
func TestClientRefusesListenerOfAnotherUser(t *testing.T) {
	uid := nobody(t)
	root := tempDir(t)
	os.Chmod(root, 0o755)
	dir := filepath.Join(root, "run")
	os.Mkdir(dir, 0o700)
	os.Chown(dir, uid, uid)
	sock := filepath.Join(dir, "broker.sock")

	// The test binary sits in a directory nobody cannot enter: copy it.
	self, _ := os.Executable()
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(root, "fake-broker")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "BROKER_TEST_LISTEN="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("the fake listener did not start: %q", lines.Text())
	}
	// The directory passes the client's check; the listener does not.
	if err := os.Chown(dir, os.Getuid(), os.Getgid()); err != nil {
		t.Fatal(err)
	}

	c := &Client{Socket: sock, State: state.Dir(filepath.Join(root, "state"))}
	err = c.Connect(context.Background(), "x-dev", "/nonexistent/ssh.config")
	var ue *UntrustedError
	var ua *UnavailableError
	if !errors.As(err, &ue) || !errors.As(err, &ua) || !strings.Contains(err.Error(), fmt.Sprintf("served by uid %d", uid)) {
		t.Fatalf("Connect to another user's listener: %v; want an unavailable broker, untrusted", err)
	}
	if _, err := c.Channel("x-dev", "/nonexistent/ssh.config").Start("true", nil, "", io.Discard, io.Discard); !errors.As(err, &ue) || !errors.As(err, new(*sshx.LostError)) {
		t.Fatalf("a session through another user's listener: %v", err)
	}
	// Both calls reached the listener, and neither sent it a byte.
	cmd.Process.Signal(syscall.SIGTERM)
	clients := 0
	for lines.Scan() && lines.Text() != "done" {
		if lines.Text() != "got 0" {
			t.Errorf("the other user's listener received data: %q", lines.Text())
		}
		clients++
	}
	if clients < 2 {
		t.Errorf("the other user's listener saw %d clients, want one per call", clients)
	}
}

// A socket directory another user could have prepared is refused by the
// client before it connects, and by the daemon before it listens.
func TestSocketDirectoryChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) // dir does not exist yet
		want  string
	}{
		// Where XDG_RUNTIME_DIR is shared, another user made it first.
		{"owned by another user", func(t *testing.T, dir string) {
			uid := nobody(t)
			os.Mkdir(dir, 0o700)
			os.Chown(dir, uid, uid)
		}, "owned by uid"},
		// Others could have put a listener or a symlink in it.
		{"group and world writable", func(t *testing.T, dir string) {
			os.Mkdir(dir, 0o700)
			os.Chmod(dir, 0o777)
		}, "has mode 0777, not 0700"},
		{"a symlink", func(t *testing.T, dir string) {
			target := dir + ".target"
			os.Mkdir(target, 0o700)
			os.Symlink(target, dir)
		}, "is a symlink"},
		{"not a directory", func(t *testing.T, dir string) {
			os.WriteFile(dir, nil, 0o600)
		}, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(tempDir(t), "run")
			tc.setup(t, dir)
			sock := filepath.Join(dir, "broker.sock")
			accepted := make(chan struct{}, 1)
			if l, err := net.Listen("unix", sock); err == nil {
				defer l.Close()
				go func() {
					if c, err := l.Accept(); err == nil {
						accepted <- struct{}{}
						c.Close()
					}
				}()
			}
			c := &Client{Socket: sock}
			_, err := c.request(request{Op: "ping"}, time.Second)
			var ue *UntrustedError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("client: %v; want an *UntrustedError saying %q", err, tc.want)
			}
			if c.Running() {
				t.Error("Running reports a broker in an untrusted directory")
			}
			d := &Daemon{State: state.Dir(t.TempDir()), Socket: sock, Idle: time.Minute}
			if err := d.Serve(context.Background()); err == nil || !strings.Contains(err.Error(), "refusing to listen") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("daemon: %v; want a refusal saying %q", err, tc.want)
			}
			select {
			case <-accepted:
				t.Error("the client connected to the socket")
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}
