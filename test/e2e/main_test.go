// Package e2e drives the real sysvm binary end to end against the lab: the
// fake limactl (which starts a real OpenSSH sshd per VM), the Zellij
// stand-in on tmux, and real terminals.
package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/test/lab"
)

func TestMain(m *testing.M) { lab.Main(m) }

// env is one lab plus the sysvm binary.
type env struct {
	*lab.Lab
	t     testing.TB
	sysvm string
}

func newEnv(t *testing.T, opts ...lab.Option) *env { return newEnvTB(t, opts...) }

func newEnvTB(t testing.TB, opts ...lab.Option) *env {
	l := lab.New(t, opts...)
	e := &env{Lab: l, t: t, sysvm: lab.BuildSysvm(t)}
	// Each lab has its own broker; make it leave soon after the test.
	l.Setenv("SYSVM_BROKER_IDLE=20s")
	t.Cleanup(func() {
		if err := e.StopBroker(e.sysvm); err != nil {
			t.Error(err)
		}
	})
	return e
}

// project makes a project directory (with a sysvm.yaml marking it),
// allows it as its user would, and returns its path. An invalid sysvm.yaml
// cannot be allowed; it is left for the test to see fail.
func (e *env) project(name, sysvmYAML string) string {
	e.t.Helper()
	dir := filepath.Join(e.Root, "p", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte(sysvmYAML), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.run(dir, "allow")
	return dir
}

// allow runs `sysvm allow` in dir: the user allows the files they changed.
func (e *env) allow(dir string) {
	e.t.Helper()
	e.ok(dir, "allow")
}

// cmd is sysvm with args, run in dir.
func (e *env) cmd(dir string, args ...string) *exec.Cmd {
	c := e.Command(e.sysvm, args...)
	c.Dir = dir
	return c
}

// sysvm runs sysvm in dir.
func (e *env) run(dir string, args ...string) lab.Result {
	return lab.RunCmd(e.cmd(dir, args...))
}

func (e *env) ok(dir string, args ...string) lab.Result {
	e.t.Helper()
	r := e.run(dir, args...)
	if r.ExitCode != 0 {
		e.t.Fatalf("sysvm %s in %s: %s", strings.Join(args, " "), dir, r)
	}
	return r
}

// Status mirrors `sysvm status --json`.
type Status struct {
	Project      string   `json:"project"`
	Dir          string   `json:"dir"`
	VM           string   `json:"vm"`
	State        string   `json:"state"`
	SSHPort      int      `json:"sshPort"`
	Config       string   `json:"config"`
	ConfigEdited bool     `json:"configEdited"`
	Session      string   `json:"session"`
	SessionState string   `json:"sessionState"`
	Changed      []string `json:"changed"`
	Lima         string   `json:"lima"`
	Zellij       *struct {
		Path      string `json:"path"`
		Version   string `json:"version"`
		Installed bool   `json:"installedBySysvm"`
	} `json:"zellij"`
}

// zellij is the path of the zellij that sysvm runs in the project's VM.
func (e *env) zellij(dir string) string {
	e.t.Helper()
	s := e.status(dir)
	if s.Zellij == nil {
		e.t.Fatalf("status shows no zellij in %s: %+v", s.VM, s)
	}
	return s.Zellij.Path
}

func (e *env) status(dir string) Status {
	e.t.Helper()
	r := e.ok(dir, "status", "--json")
	var s Status
	if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
		e.t.Fatalf("status --json: %v\n%s", err, r.Stdout)
	}
	return s
}

// creates counts `limactl start --name=VM FILE` calls: VM creations.
func (e *env) creates(vm string) int {
	n := 0
	for _, c := range e.Calls() {
		if strings.HasPrefix(c, "start ") && strings.Contains(c, " --name="+vm+" ") {
			n++
		}
	}
	return n
}

func runCmd(c *exec.Cmd) lab.Result { return lab.RunCmd(c) }
