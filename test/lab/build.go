// Package lab sets up the sysvm test lab: it builds the stand-ins (the fake
// limactl from test/fakelimactl and the tmux-based zellij from
// test/zellijstandin), and gives each test an isolated environment (short
// LIMA_HOME, HOME, XDG dirs, PATH with the fake limactl first) plus helpers to
// drive and inspect fake VMs. It is imported only by tests.
//
// Typical use:
//
//	func TestMain(m *testing.M) { lab.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		l := lab.New(t)
//		l.MustStart("proj")
//		res := l.SSH("proj", "zellij", "ls", "-n")
//		...
//	}
package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Binaries are the lab's built executables. The layout is what the fake
// limactl expects: the guest PATH defaults to <Dir>/guest-bin first.
type Binaries struct {
	Dir      string // <bindir>
	Limactl  string // <bindir>/limactl (test/fakelimactl)
	GuestBin string // <bindir>/guest-bin
	Zellij   string // <bindir>/guest-bin/zellij (test/zellijstandin)
}

var (
	binMu     sync.Mutex
	binRoot   string // shared temp dir holding all builds of this test binary
	buildOnce sync.Once
	buildBins *Binaries
	buildErr  error
	sysvmOnce sync.Once
	sysvmPath string
	sysvmErr  error
)

// Main runs the tests and then removes the binaries built by this test
// binary. Use it from TestMain; without it the build directory is left in
// the temp dir.
func Main(m *testing.M) {
	code := m.Run()
	binMu.Lock()
	if binRoot != "" {
		_ = os.RemoveAll(binRoot)
	}
	binMu.Unlock()
	os.Exit(code)
}

// ModuleRoot returns the directory of sysvm's go.mod.
func ModuleRoot() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root, nil
		}
	}
	out, err := exec.Command(goBinary(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("cannot locate the module root: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("cannot locate the module root: not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

func goBinary() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "/usr/local/go/bin/go"
}

// sharedBinDir returns the temp directory shared by all builds.
func sharedBinDir() (string, error) {
	binMu.Lock()
	defer binMu.Unlock()
	if binRoot == "" {
		d, err := os.MkdirTemp("", "lab-bin-")
		if err != nil {
			return "", fmt.Errorf("cannot create the lab bin dir: %w", err)
		}
		binRoot = d
	}
	return binRoot, nil
}

// goBuild runs `go build -o out pkg` in the module root.
func goBuild(out, pkg string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command(goBinary(), "build", "-o", out, pkg)
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s %s: %v\n%s", out, pkg, err, buf.String())
	}
	return nil
}

// BuildBinaries builds the fake limactl as <bindir>/limactl and the zellij
// stand-in as <bindir>/guest-bin/zellij, once per test binary.
func BuildBinaries(t testing.TB) *Binaries {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := sharedBinDir()
		if err != nil {
			buildErr = err
			return
		}
		b := &Binaries{
			Dir:      dir,
			Limactl:  filepath.Join(dir, "limactl"),
			GuestBin: filepath.Join(dir, "guest-bin"),
			Zellij:   filepath.Join(dir, "guest-bin", "zellij"),
		}
		if err := os.MkdirAll(b.GuestBin, 0o755); err != nil {
			buildErr = err
			return
		}
		if err := goBuild(b.Limactl, "github.com/sysvm/sysvm/test/fakelimactl"); err != nil {
			buildErr = err
			return
		}
		if err := goBuild(b.Zellij, "github.com/sysvm/sysvm/test/zellijstandin"); err != nil {
			buildErr = err
			return
		}
		buildBins = b
	})
	if buildErr != nil {
		t.Fatalf("lab: building the stand-ins failed: %v", buildErr)
	}
	return buildBins
}

// BuildSysvm builds github.com/sysvm/sysvm/cmd/sysvm to <bindir>/sysvm once
// per test binary and returns its path.
func BuildSysvm(t testing.TB) string {
	t.Helper()
	bins := BuildBinaries(t)
	sysvmOnce.Do(func() {
		p := filepath.Join(bins.Dir, "sysvm")
		if err := goBuild(p, "github.com/sysvm/sysvm/cmd/sysvm"); err != nil {
			sysvmErr = err
			return
		}
		sysvmPath = p
	})
	if sysvmErr != nil {
		t.Fatalf("lab: building sysvm failed: %v", sysvmErr)
	}
	return sysvmPath
}

// toolPath maps a required tool to how it is looked up: sshd must be
// /usr/sbin/sshd (sshd needs an absolute path), the rest come from PATH.
func toolPath(tool string) (string, error) {
	if tool == "sshd" {
		p := "/usr/sbin/sshd"
		if v := os.Getenv("FAKELIMA_SSHD"); v != "" {
			p = v
		}
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
	return exec.LookPath(tool)
}

// Require fails (when $CI is set) or skips the test if any of the tools is
// missing. Known tools: sshd, ssh, tmux.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := toolPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("lab: missing %s; install with: apt-get install openssh-server tmux", strings.Join(missing, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// RequireTools is Require(t, "sshd", "ssh", "tmux"): everything a fake VM
// with a zellij stand-in needs.
func RequireTools(t testing.TB) {
	t.Helper()
	Require(t, "sshd", "ssh", "tmux")
}
