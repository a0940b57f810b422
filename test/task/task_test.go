// Package tasktest runs the templates' Taskfile.yml with the real Task: the
// lima:* tasks are listed with descriptions, and each runs the sysvm command
// it promises. Most cases use a stand-in sysvm that records its arguments;
// lima:init also runs against the real sysvm, built from this tree.
//
// Without task the tests skip; with CI set they fail (test/nix/deps.sh
// installs task into ${SYSVM_CACHE:-/var/cache/sysvm}/bin).
package tasktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sysvm/sysvm/templates"
)

// limaTasks are the tasks every Taskfile template must have.
var limaTasks = []string{"lima:destroy", "lima:init", "lima:rebuild", "lima:shell", "lima:start", "lima:status", "lima:stop"}

// taskfileTemplates are the templates that ship a Taskfile.yml.
var taskfileTemplates = []string{"vm-dev", "vm-custom"}

// findTask returns the task binary: on PATH, else where deps.sh puts it.
func findTask(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("task"); err == nil {
		return p
	}
	cache := os.Getenv("SYSVM_CACHE")
	if cache == "" {
		cache = "/var/cache/sysvm"
	}
	if p := filepath.Join(cache, "bin", "task"); isExec(p) {
		return p
	}
	msg := "task is not installed; run test/nix/deps.sh (go install github.com/go-task/task/v3/cmd/task)"
	if os.Getenv("CI") != "" {
		t.Fatalf("%s, and CI is set: CI must run these tests", msg)
	}
	t.Skip(msg)
	return ""
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

var (
	buildOnce sync.Once
	realSysvm string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if realSysvm != "" {
		os.RemoveAll(filepath.Dir(realSysvm))
	}
	os.Exit(code)
}

// sysvm builds the real sysvm once.
func sysvm(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sysvm-tasktest-")
		if err != nil {
			buildErr = err
			return
		}
		realSysvm = filepath.Join(dir, "sysvm")
		cmd := exec.Command("go", "build", "-o", realSysvm, "./cmd/sysvm")
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building sysvm: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return realSysvm
}

// project writes the template's Taskfile.yml into a new project directory.
func project(t *testing.T, tmpl string) string {
	t.Helper()
	b, err := templates.Projects.ReadFile(tmpl + "/Taskfile.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "myapp")
	os.Mkdir(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "Taskfile.yml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// stub writes a stand-in sysvm that appends its argv, as [arg][arg]..., to
// a log, prints a config for `config`, and exits with $STUB_EXIT.
func stub(t *testing.T) (binDir, log string) {
	t.Helper()
	binDir = t.TempDir()
	log = filepath.Join(t.TempDir(), "argv")
	script := `#!/bin/sh
for a in "$@"; do printf '[%s]' "$a"; done >> "` + log + `"
echo >> "` + log + `"
[ "$1" = config ] && echo "vmType: stub"
exit "${STUB_EXIT:-0}"
`
	if err := os.WriteFile(filepath.Join(binDir, "sysvm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return binDir, log
}

// ownEnv is this process's environment without TASK_* and with a fresh HOME
// and XDG_CONFIG_HOME, so neither Task nor sysvm reads the machine's
// settings (Task's .taskrc.yml, for one), then extra.
func ownEnv(t *testing.T, extra []string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TASK_") {
			env = append(env, kv)
		}
	}
	home := t.TempDir()
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	return append(env, extra...)
}

func runTask(t *testing.T, task, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(task, args...)
	cmd.Dir = dir
	cmd.Env = ownEnv(t, env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestTaskList(t *testing.T) {
	task := findTask(t)
	for _, tmpl := range taskfileTemplates {
		t.Run(tmpl, func(t *testing.T) {
			dir := project(t, tmpl)
			out, err := runTask(t, task, dir, nil, "--list", "--json")
			if err != nil {
				t.Fatalf("task --list --json: %v\n%s", err, out)
			}
			var list struct {
				Tasks []struct{ Name, Desc string }
			}
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var names []string
			for _, tk := range list.Tasks {
				names = append(names, tk.Name)
				if tk.Desc == "" {
					t.Errorf("%s has no desc", tk.Name)
				}
			}
			sort.Strings(names)
			if strings.Join(names, " ") != strings.Join(limaTasks, " ") {
				t.Errorf("tasks %v, want %v", names, limaTasks)
			}
			human, err := runTask(t, task, dir, nil, "--list")
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range limaTasks {
				if !strings.Contains(human, n) {
					t.Errorf("task --list does not show %s:\n%s", n, human)
				}
			}
		})
	}
	a, _ := templates.Projects.ReadFile("vm-dev/Taskfile.yml")
	b, _ := templates.Projects.ReadFile("vm-custom/Taskfile.yml")
	if !bytes.Equal(a, b) {
		t.Error("vm-dev and vm-custom ship different Taskfile.yml files")
	}
}

// TestTasksCallSysvm runs each task against the stand-in and checks the
// sysvm command lines it ran.
func TestTasksCallSysvm(t *testing.T) {
	task := findTask(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"lima:status"}, []string{"[status]"}},
		{[]string{"lima:status", "--", "--json"}, []string{"[status][--json]"}},
		{[]string{"lima:start"}, []string{"[up]"}},
		{[]string{"lima:start", "--", "--background"}, []string{"[up][--background]"}},
		{[]string{"lima:stop"}, []string{"[stop]"}},
		{[]string{"lima:destroy"}, []string{"[destroy][--yes]"}},
		{[]string{"lima:rebuild"}, []string{"[up][--recreate][--yes]"}},
		{[]string{"lima:shell"}, []string{"[shell][--]"}},
		{[]string{"lima:shell", "--", "make", "test"}, []string{"[shell][--][make][test]"}},
		{[]string{"lima:shell", "--", "echo", "a b"}, []string{"[shell][--][echo][a b]"}},
		{[]string{"lima:init"}, []string{"[config]"}},
	}
	for _, tmpl := range taskfileTemplates {
		for _, viaEnv := range []bool{false, true} {
			for _, tt := range tests {
				name := fmt.Sprintf("%s/%s/SYSVM_BIN=%v", tmpl, strings.Join(tt.args, " "), viaEnv)
				t.Run(name, func(t *testing.T) {
					dir := project(t, tmpl)
					bin, log := stub(t)
					env := []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
					if viaEnv { // not on PATH: SYSVM_BIN names it
						env = []string{"SYSVM_BIN=" + filepath.Join(bin, "sysvm")}
					}
					if out, err := runTask(t, task, dir, env, tt.args...); err != nil {
						t.Fatalf("task %s: %v\n%s", strings.Join(tt.args, " "), err, out)
					}
					b, _ := os.ReadFile(log)
					got := strings.Split(strings.TrimSpace(string(b)), "\n")
					if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
						t.Errorf("sysvm ran as %q, want %q", got, tt.want)
					}
				})
			}
		}
	}
}

// TestLimaInit: lima:init writes `sysvm config` (the real one) to
// .lima/config.yaml once, and leaves nothing behind when sysvm fails.
func TestLimaInit(t *testing.T) {
	task := findTask(t)
	real := sysvm(t)
	dir := project(t, "vm-dev")
	env := []string{"SYSVM_BIN=" + real, "LIMA_HOME=" + filepath.Join(t.TempDir(), "lima"), "SYSVM_STATE_DIR=" + t.TempDir(),
		"VM_CPUS=", "VM_MEMORY=", "VM_DISK=", "VM_PORTS=", "VM_IMAGE="}
	if out, err := runTask(t, task, dir, env, "lima:init"); err != nil {
		t.Fatalf("task lima:init: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, ".lima", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(real, "config", dir)
	cmd.Env = ownEnv(t, env)
	want, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf(".lima/config.yaml differs from `sysvm config`:\n%s", got)
	}
	// Up to date now: a second run does not call sysvm.
	bin, log := stub(t)
	if out, err := runTask(t, task, dir, []string{"SYSVM_BIN=" + filepath.Join(bin, "sysvm")}, "lima:init"); err != nil {
		t.Fatalf("task lima:init again: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(log); len(b) > 0 {
		t.Errorf("lima:init ran sysvm although .lima/config.yaml exists: %s", b)
	}

	// When sysvm fails, the task fails and writes no config.
	dir = project(t, "vm-dev")
	out, err := runTask(t, task, dir, []string{"SYSVM_BIN=" + filepath.Join(bin, "sysvm"), "STUB_EXIT=3"}, "lima:init")
	if err == nil {
		t.Errorf("lima:init succeeded although sysvm failed:\n%s", out)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, ".lima"))
	if len(entries) != 0 {
		t.Errorf(".lima holds %v after a failed lima:init", entries)
	}
}
