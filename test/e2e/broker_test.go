package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// handshakes counts SSH logins the VM's sshd accepted.
func (e *env) handshakes(vm string) int {
	b, _ := os.ReadFile(filepath.Join(e.InstanceDir(vm), "ha.stderr.log"))
	return strings.Count(string(b), "Accepted publickey")
}

func TestBrokerStartsOnDemandAndExitsWhenIdle(t *testing.T) {
	e := newEnv(t)
	e.Setenv("SYSVM_BROKER_IDLE=2s")
	dir := e.project("idle", "")
	if e.BrokerPID() != 0 {
		t.Fatal("a broker runs before anything asked for one")
	}
	e.ok(dir, "shell", "--", "true")
	pid := e.BrokerPID()
	if pid == 0 {
		t.Fatal("no broker after sysvm shell")
	}
	st, err := os.Stat(e.BrokerSocket())
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, %v; want 0600", st.Mode(), err)
	}
	if st, _ := os.Stat(filepath.Dir(e.BrokerSocket())); st.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode = %v, want 0700", st.Mode())
	}
	deadline := time.Now().Add(15 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the broker did not exit after its quiet period")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := os.Stat(e.BrokerSocket()); !os.IsNotExist(err) {
		t.Errorf("the idle broker left its socket behind: %v", err)
	}
}

func TestBrokerSharesOneConnection(t *testing.T) {
	e := newEnv(t)
	dir := e.project("shared", "")
	e.ok(dir, "shell", "--", "true")
	before := e.handshakes("shared-dev")
	var wg sync.WaitGroup
	errs := make(chan string, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.run(dir, "shell", "--", "sh", "-c", fmt.Sprintf("sleep 0.5; echo client-%d", i))
			if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != fmt.Sprintf("client-%d", i) {
				errs <- r.String()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Error(s)
	}
	if n := e.handshakes("shared-dev") - before; n != 0 {
		t.Errorf("ten clients made %d new SSH handshakes, want 0 (one shared connection)", n)
	}
	// status shows the broker's connection.
	r := e.ok(dir, "status", "--json")
	if !strings.Contains(r.Stdout, `"connected": true`) {
		t.Errorf("status lacks the broker connection:\n%s", r.Stdout)
	}
}

func TestBrokerReplacedAndRedials(t *testing.T) {
	e := newEnv(t)
	dir := e.project("phoenix", "")
	e.ok(dir, "shell", "--", "true")
	pid := e.BrokerPID()
	// A crashed broker (SIGKILL leaves its socket file behind) is replaced.
	syscall.Kill(pid, syscall.SIGKILL)
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(e.BrokerSocket()); err != nil {
		t.Fatalf("expected a stale socket after SIGKILL: %v", err)
	}
	e.ok(dir, "shell", "--", "true")
	if p := e.BrokerPID(); p == 0 || p == pid {
		t.Fatalf("broker pid %d after the crash of %d", p, pid)
	}
	// A dead connection is redialed on the next request.
	if n, err := e.DropConnections("phoenix-dev"); err != nil || n == 0 {
		t.Fatalf("drop: %d %v", n, err)
	}
	before := e.handshakes("phoenix-dev")
	r := e.ok(dir, "shell", "--", "echo", "redialed")
	if !strings.Contains(r.Stdout, "redialed") || e.handshakes("phoenix-dev") != before+1 {
		t.Errorf("after the drop: %s, handshakes %d→%d", r, before, e.handshakes("phoenix-dev"))
	}
	// Only one broker runs, however many shells start at once.
	syscall.Kill(e.BrokerPID(), syscall.SIGKILL)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); e.run(dir, "shell", "--", "true") }()
	}
	wg.Wait()
	out, _ := exec.Command("pgrep", "-f", "^"+regexp.QuoteMeta(e.sysvm+" broker serve")).Output()
	if n := len(strings.Fields(string(out))); n != 1 {
		t.Errorf("%d brokers run after ten concurrent shells, want 1", n)
	}
}

func TestBrokerFallbackWhenSocketDirUnwritable(t *testing.T) {
	e := newEnv(t)
	dir := e.project("fallback", "")
	e.ok(dir, "up")
	ro := filepath.Join(e.Root, "ro")
	os.MkdirAll(ro, 0o500)
	c := e.cmd(dir, "shell", "--verbose", "--", "echo", "direct-ok")
	c.Env = append(c.Env, "XDG_RUNTIME_DIR="+ro)
	if os.Geteuid() == 0 {
		// root ignores directory modes: point at a path under a file instead.
		f := filepath.Join(e.Root, "afile")
		os.WriteFile(f, nil, 0o600)
		c.Env = append(c.Env, "XDG_RUNTIME_DIR="+f)
	}
	r := runCmd(c)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "direct-ok") {
		t.Fatalf("no fallback: %s", r)
	}
	if strings.Count(r.Stderr, "broker unavailable; dialing directly") != 1 {
		t.Errorf("--verbose should say once that it dials directly:\n%s", r.Stderr)
	}
}

// TestBrokerRefusesOtherUsers connects to a broker's socket as another user
// (nobody): the broker checks the peer's uid and refuses.
func TestBrokerRefusesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root; this test needs root to act as another user")
		}
		t.Skip("needs root to connect as another user")
	}
	e := newEnv(t)
	dir := e.project("private", "")
	e.ok(dir, "shell", "--", "true")
	// Open the directory and socket to everyone, so only the uid check stands.
	os.Chmod(e.Root, 0o755)
	os.Chmod(e.RuntimeDir, 0o755)
	os.Chmod(filepath.Dir(e.BrokerSocket()), 0o755)
	os.Chmod(e.BrokerSocket(), 0o666)
	self, _ := os.Executable()
	exe := filepath.Join(e.Root, "peer")
	copyFile(t, self, exe, 0o755)
	c := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", exe, "-test.run=^TestPeerHelper$")
	c.Env = append(os.Environ(), "SYSVM_PEER_SOCKET="+e.BrokerSocket())
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("peer helper: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "REPLY:") || !strings.Contains(string(out), "permission denied") {
		t.Errorf("another user's request was not refused:\n%s", out)
	}
}

// TestPeerHelper is run as another user by TestBrokerRefusesOtherUsers.
func TestPeerHelper(t *testing.T) {
	sock := os.Getenv("SYSVM_PEER_SOCKET")
	if sock == "" {
		t.Skip("helper process only")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, `{"op":"status"}`)
	b, _ := io.ReadAll(c)
	fmt.Printf("REPLY: %s\n", b)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// TestNoDescriptorLeak: what sysvm starts (limactl, and through it the VM;
// the broker) does not keep a stray descriptor of sysvm's caller open.
func TestNoDescriptorLeak(t *testing.T) {
	e := newEnv(t)
	dir := e.project("fds", "")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := e.cmd(dir, "shell", "--", "true") // creates the VM and starts the broker
	c.ExtraFiles = []*os.File{w}
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	w.Close()
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(r)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a process sysvm started still holds its caller's descriptor")
	}
	if e.BrokerPID() == 0 {
		t.Error("no broker was started, so the check proved nothing")
	}
}
