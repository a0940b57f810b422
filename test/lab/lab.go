package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/procs"
	"github.com/sysvm/sysvm/zellij/release/releasetest"
)

// Lab is one isolated test environment. All paths live under Root, a short
// directory in /tmp (LIMA_HOME must stay short: Lima puts unix sockets in
// instance directories).
type Lab struct {
	t   testing.TB
	Bin *Binaries

	Root       string // /tmp/lab-XXXX
	LimaHome   string // Root/l
	Home       string // Root/home ($HOME)
	StateHome  string // Root/state ($XDG_STATE_HOME)
	RuntimeDir string // Root/run ($XDG_RUNTIME_DIR, 0700)
	ConfigHome string // Root/config ($XDG_CONFIG_HOME)
	CacheHome  string // Root/cache ($XDG_CACHE_HOME)
	WorkDir    string // Root/w, the cwd of commands run through the lab

	// LimaVersion is the Lima release the fake limactl behaves as
	// ($FAKELIMA_VERSION): "" for its default, 1.2.2.
	LimaVersion string

	// Mirror serves the zellij stand-in as the pinned Zellij release
	// (SYSVM_ZELLIJ_URL); nil with GuestZellij.
	Mirror *releasetest.Server

	guestZellij bool
	mu          sync.Mutex
	extra       []string
}

// Option configures a lab.
type Option func(*Lab)

// GuestZellij gives the fake guests the zellij stand-in on their PATH, as
// on an image that ships Zellij. By default guests have none, as on a stock
// image, and sysvm installs the stand-in from the lab's mirror (Mirror).
func GuestZellij() Option { return func(l *Lab) { l.guestZellij = true } }

// LimaVersion makes the fake limactl behave as Lima release v (e.g.
// "2.2.0"; "" is the fake's default, 1.2.2). Without this option the lab
// uses $SYSVM_LAB_LIMA, so a whole suite can be repeated against 2.x:
// SYSVM_LAB_LIMA=2.2.0 go test ./test/e2e/.
func LimaVersion(v string) Option { return func(l *Lab) { l.LimaVersion = v } }

// Result is the outcome of a command run through the lab.
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int   // -1 if the command did not run or was killed by a signal
	Err      error // non-nil if the command could not be started
}

// String summarises the result for failure messages.
func (r Result) String() string {
	return fmt.Sprintf("exit %d (err %v)\n--- stdout:\n%s--- stderr:\n%s", r.ExitCode, r.Err, r.Stdout, r.Stderr)
}

// New builds the stand-ins (once) and returns a fresh lab. It fails the test
// when sshd/ssh/tmux are missing and $CI is set, and skips it otherwise. On
// cleanup every fake instance is force-stopped and Root is removed.
func New(t testing.TB, opts ...Option) *Lab {
	t.Helper()
	RequireTools(t)
	bins := BuildBinaries(t)
	root, err := os.MkdirTemp("/tmp", "lab-")
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	l := &Lab{
		t:           t,
		Bin:         bins,
		Root:        root,
		LimaHome:    filepath.Join(root, "l"),
		Home:        filepath.Join(root, "home"),
		StateHome:   filepath.Join(root, "state"),
		RuntimeDir:  filepath.Join(root, "run"),
		ConfigHome:  filepath.Join(root, "config"),
		CacheHome:   filepath.Join(root, "cache"),
		WorkDir:     filepath.Join(root, "w"),
		LimaVersion: os.Getenv("SYSVM_LAB_LIMA"),
	}
	for _, o := range opts {
		o(l)
	}
	if !l.guestZellij {
		l.GuestWithoutZellij()
		l.Mirror = l.ServeZellij()
	}
	for _, d := range []string{l.LimaHome, l.Home, l.StateHome, l.RuntimeDir, l.ConfigHome, l.CacheHome, l.WorkDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("lab: %v", err)
		}
	}
	t.Cleanup(l.cleanup)
	return l
}

// overridden are the variables Env replaces or drops from the parent
// environment.
var overridden = []string{"LIMA_HOME", "HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME",
	"XDG_CACHE_HOME", "PATH", "LIMACTL", "LIMA_INSTANCE", "TMUX", "TMUX_PANE", "ZELLIJ", "ZELLIJ_SESSION_NAME",
	"ZELLIJ_PANE_ID", "ZELLIJ_STANDIN_DIR", "ZELLIJ_SOCKET_DIR", "SSH", "SYSVM_ZELLIJ_URL"}

// Env returns the lab's environment: the parent environment with LIMA_HOME,
// HOME, XDG_{STATE,RUNTIME,CONFIG,CACHE}_HOME, PATH (bindir first) and
// LIMACTL (the fake) replaced, ZELLIJ*, FAKELIMA_* and DIRENV_* (a developer's
// direnv state and DIRENV_CONFIG: direnv must read only the lab's
// XDG_CONFIG_HOME) dropped, and the variables given to Setenv appended.
func (l *Lab) Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := strings.HasPrefix(k, "FAKELIMA_") || strings.HasPrefix(k, "DIRENV_")
		for _, o := range overridden {
			if k == o {
				drop = true
			}
		}
		if !drop {
			env = append(env, kv)
		}
	}
	env = append(env,
		"LIMA_HOME="+l.LimaHome,
		"HOME="+l.Home,
		"XDG_STATE_HOME="+l.StateHome,
		"XDG_RUNTIME_DIR="+l.RuntimeDir,
		"XDG_CONFIG_HOME="+l.ConfigHome,
		"XDG_CACHE_HOME="+l.CacheHome,
		"PATH="+l.Bin.Dir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LIMACTL="+l.Bin.Limactl,
	)
	if l.LimaVersion != "" {
		env = append(env, "FAKELIMA_VERSION="+l.LimaVersion)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(env, l.extra...)
}

// Setenv adds KEY=VALUE entries (e.g. FAKELIMA_* knobs) to Env for every
// later command; a later entry for the same key wins.
func (l *Lab) Setenv(kv ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.extra = append(l.extra, kv...)
}

// Command returns a command with the lab's environment, run in WorkDir.
func (l *Lab) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = l.Env()
	cmd.Dir = l.WorkDir
	return cmd
}

// RunCmd runs cmd (stdin from /dev/null unless set) and collects its output.
func RunCmd(cmd *exec.Cmd) Result {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		res.ExitCode = -1
		res.Err = err
	}
	return res
}

// Run runs name with the lab's environment and returns its result.
func (l *Lab) Run(name string, args ...string) Result {
	return RunCmd(l.Command(name, args...))
}

// Limactl runs the fake limactl.
func (l *Lab) Limactl(args ...string) Result {
	return l.Run(l.Bin.Limactl, args...)
}

// MustLimactl runs the fake limactl and fails the test on a non-zero exit.
func (l *Lab) MustLimactl(args ...string) Result {
	l.t.Helper()
	res := l.Limactl(args...)
	if res.ExitCode != 0 || res.Err != nil {
		l.t.Fatalf("limactl %s: %s", strings.Join(args, " "), res)
	}
	return res
}

// MinimalLimaYAML is a valid lima.yaml for the fake (the image is never
// read).
const MinimalLimaYAML = `vmType: qemu
cpus: 1
memory: 1GiB
disk: 4GiB
images:
- location: /nonexistent/fake-image.qcow2
containerd:
  system: false
  user: false
`

// WriteLimaYAML writes MinimalLimaYAML plus extra to WorkDir/<name>.yaml and
// returns its path.
func (l *Lab) WriteLimaYAML(name, extra string) string {
	l.t.Helper()
	p := filepath.Join(l.WorkDir, name+".yaml")
	if err := os.WriteFile(p, []byte(MinimalLimaYAML+extra), 0o644); err != nil {
		l.t.Fatalf("lab: %v", err)
	}
	return p
}

// MustStart creates and starts instance name from MinimalLimaYAML, failing
// the test on error.
func (l *Lab) MustStart(name string) Result {
	l.t.Helper()
	return l.MustLimactl("start", "--name="+name, "--tty=false", "--timeout=60s", l.WriteLimaYAML(name, ""))
}

// InstanceDir returns $LIMA_HOME/name.
func (l *Lab) InstanceDir(name string) string { return filepath.Join(l.LimaHome, name) }

// SSHConfig returns the instance's ssh.config path.
func (l *Lab) SSHConfig(name string) string { return filepath.Join(l.InstanceDir(name), "ssh.config") }

// GuestDir is the ZELLIJ_STANDIN_DIR of the instance's guest sessions.
func (l *Lab) GuestDir(name string) string { return filepath.Join(l.InstanceDir(name), "guest") }

// Hostname returns Lima's host alias for an instance ("lima-" + name with
// "." and "_" replaced by "-").
func Hostname(name string) string {
	return "lima-" + strings.NewReplacer(".", "-", "_", "-").Replace(name)
}

// SSH runs `ssh -F <ssh.config> lima-<name> -- args...` (no PTY) using
// Lima's ControlMaster.
func (l *Lab) SSH(name string, args ...string) Result {
	argv := append([]string{"-F", l.SSHConfig(name), Hostname(name), "--"}, args...)
	return l.Run("ssh", argv...)
}

// GuestTmux runs tmux against the zellij stand-in's server of an instance
// (to inspect sessions inside a fake VM).
func (l *Lab) GuestTmux(name string, args ...string) Result {
	return l.Run("tmux", append([]string{"-S", filepath.Join(l.GuestDir(name), "tmux.sock"), "-f", "/dev/null"}, args...)...)
}

// Calls returns the lines of $LIMA_HOME/_fake/calls.log: every fake limactl
// invocation's argv joined by spaces.
func (l *Lab) Calls() []string {
	b, err := os.ReadFile(filepath.Join(l.LimaHome, "_fake", "calls.log"))
	if err != nil {
		return nil
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// CountCalls counts calls whose first arguments equal words, e.g.
// CountCalls("start", "--name=proj").
func (l *Lab) CountCalls(words ...string) int {
	n := 0
	for _, c := range l.Calls() {
		f := strings.Fields(c)
		if len(f) < len(words) {
			continue
		}
		match := true
		for i, w := range words {
			if f[i] != w {
				match = false
				break
			}
		}
		if match {
			n++
		}
	}
	return n
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("bad pid file %s: %w", path, err)
	}
	if !procs.Alive(pid) {
		return 0, fmt.Errorf("pid %d from %s is not running", pid, path)
	}
	return pid, nil
}

// HostAgentPid returns the live fake hostagent's pid of an instance.
func (l *Lab) HostAgentPid(name string) (int, error) {
	return readPID(filepath.Join(l.InstanceDir(name), "ha.pid"))
}

// SSHDPid returns the pid of the sshd listener serving an instance.
func (l *Lab) SSHDPid(name string) (int, error) {
	pid, err := readPID(filepath.Join(l.InstanceDir(name), "qemu.pid"))
	if err != nil {
		return 0, err
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if strings.TrimSpace(string(comm)) != "sshd" {
		return 0, fmt.Errorf("instance %q has no sshd yet (driver pid %d is %q)", name, pid, strings.TrimSpace(string(comm)))
	}
	return pid, nil
}

// DropConnections simulates a dropped link to an instance: it SIGKILLs
// every process below the sshd listener (the per-connection sshd processes
// and the sessions they serve, including Lima's ControlMaster connection).
// Guest daemons such as the zellij stand-in's tmux server survive. It
// returns how many processes were killed.
func (l *Lab) DropConnections(name string) (int, error) {
	pid, err := l.SSHDPid(name)
	if err != nil {
		return 0, err
	}
	kids := procs.Descendants(pid)
	for _, p := range kids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	procs.WaitGone(5*time.Second, kids...)
	return len(kids), nil
}

// KillHostAgent SIGKILLs an instance's hostagent, leaving its sshd running:
// `limactl list` then reports Broken ("qemu driver is running but host
// agent is not").
func (l *Lab) KillHostAgent(name string) error {
	pid, err := l.HostAgentPid(name)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill hostagent %d: %w", pid, err)
	}
	if !procs.WaitGone(5*time.Second, pid) {
		return fmt.Errorf("hostagent %d did not die", pid)
	}
	return nil
}

// Instances lists the instance directories under LIMA_HOME.
func (l *Lab) Instances() []string {
	entries, err := os.ReadDir(l.LimaHome)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), "_") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// StopAll force-stops every instance (`limactl stop -f`).
func (l *Lab) StopAll() {
	for _, n := range l.Instances() {
		if res := l.Limactl("stop", "-f", n); res.ExitCode != 0 {
			l.t.Logf("lab: limactl stop -f %s: %s", n, res)
		}
	}
}

// LeftoverProcesses returns live processes that still belong to the lab:
// anything whose command line mentions Root, or that runs inside one of its
// fake VMs.
func (l *Lab) LeftoverProcesses() []int {
	var out []int
	for _, pid := range procs.All() {
		if l.ownsProcess(pid, false) {
			out = append(out, pid)
		}
	}
	return out
}

// ownsProcess reports whether pid belongs to the lab; with vmOnly, only
// fake VM processes count (hostagent, sshd, guest processes).
func (l *Lab) ownsProcess(pid int, vmOnly bool) bool {
	if pid == os.Getpid() || !procs.Alive(pid) {
		return false
	}
	needle := l.Root + "/"
	if vmOnly {
		needle = l.LimaHome + "/"
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return bytes.Contains(cmdline, []byte(needle)) ||
		bytes.Contains(environ, []byte("FAKELIMA_INSTANCE_DIR="+l.LimaHome+"/"))
}

func (l *Lab) cleanup() {
	l.StopAll()
	if left := l.LeftoverProcesses(); len(left) > 0 {
		var vm []int
		for _, p := range left {
			if l.ownsProcess(p, true) {
				vm = append(vm, p)
			}
		}
		if len(vm) > 0 {
			l.t.Errorf("lab: fake VM processes left running after stop -f: %v", describePIDs(vm))
		}
		l.t.Logf("lab: killing leftover processes: %v", describePIDs(left))
		for _, p := range left {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		procs.WaitGone(5*time.Second, left...)
	}
	if os.Getenv("LAB_KEEP") != "" {
		l.t.Logf("lab: keeping %s (LAB_KEEP set)", l.Root)
		return
	}
	if err := os.RemoveAll(l.Root); err != nil {
		l.t.Logf("lab: removing %s: %v", l.Root, err)
	}
}

func describePIDs(pids []int) string {
	var parts []string
	for _, p := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		parts = append(parts, fmt.Sprintf("%d %q", p, strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")))
	}
	return strings.Join(parts, ", ")
}
