package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Bad input gets a clear error that says what to do, and nothing is lost.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	defer func() {
		if !t.Failed() {
			report(t, "faults_survived", 7)
		}
	}()

	t.Run("missing directory", func(t *testing.T) {
		r := e.run(e.Root, "up", filepath.Join(e.Root, "nope", "here"))
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "does not exist") || !strings.Contains(r.Stderr, "hint:") {
			t.Errorf("%s", r)
		}
	})

	t.Run("corrupt lima config", func(t *testing.T) {
		dir := e.project("corrupt", "")
		path := filepath.Join(dir, ".lima", "config.yaml")
		os.MkdirAll(filepath.Dir(path), 0o755)
		broken := "vmType: qemu\ncpus: [2\nmemory: 4GiB\n"
		os.WriteFile(path, []byte(broken), 0o644)
		e.allow(dir)
		r := e.run(dir, "up")
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, path) || !strings.Contains(r.Stderr, "line") {
			t.Errorf("want the file and line named: %s", r)
		}
		if b, _ := os.ReadFile(path); string(b) != broken {
			t.Error("the broken config was overwritten")
			report(t, "files_lost", 1)
		}
		if e.creates("corrupt-dev") != 0 {
			t.Error("a VM was created from a broken config")
		}
	})

	t.Run("bad sysvm.yaml", func(t *testing.T) {
		dir := e.project("typo", "cpuz: 4\n")
		r := e.run(dir, "up")
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "cpuz") {
			t.Errorf("%s", r)
		}
	})

	t.Run("bad settings", func(t *testing.T) {
		dir := e.project("badset", "")
		r := e.run(dir, "up", "--port", "22")
		if r.ExitCode != 2 || !strings.Contains(r.Stderr, "22") {
			t.Errorf("want a usage error naming the port: %s", r)
		}
	})

	t.Run("limactl missing", func(t *testing.T) {
		dir := e.project("nolima", "")
		c := e.cmd(dir, "up")
		c.Env = append(c.Env, "LIMACTL=", "PATH=/usr/bin:/bin")
		r := runCmd(c)
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "limactl was not found") || !strings.Contains(r.Stderr, "hint: install Lima") {
			t.Errorf("%s", r)
		}
	})

	t.Run("limactl start fails", func(t *testing.T) {
		dir := e.project("fails", "")
		c := e.cmd(dir, "up")
		c.Env = append(c.Env, "FAKELIMA_START_FAIL=1")
		r := runCmd(c)
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "ha.stderr.log") {
			t.Errorf("want limactl's own reason: %s", r)
		}
		// Nothing was lost: a plain up now succeeds.
		e.ok(dir, "up")
	})

	t.Run("limactl start hangs past its timeout", func(t *testing.T) {
		dir := e.project("hangs", "")
		c := e.cmd(dir, "up")
		c.Env = append(c.Env, "FAKELIMA_START_HANG=1", "SYSVM_START_TIMEOUT=2s")
		start := time.Now()
		r := runCmd(c)
		// limactl is told to give up at the same timeout (sysvm kills it only
		// 5s later), so its own reason is what the user reads, with the
		// command that shows the timeout. Lima 2.2 quotes with backquotes.
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "--timeout=2s") ||
			!timeoutReason.MatchString(r.Stderr) {
			t.Errorf("want limactl's timeout and its reason: %s", r)
		}
		if d := time.Since(start); d > 12*time.Second { // 2s, then 5s before sysvm kills limactl
			t.Errorf("sysvm waited %s", d)
		}
	})

	t.Run("broken instance", func(t *testing.T) {
		dir := e.project("broken", "")
		c := e.cmd(dir, "up")
		c.Env = append(c.Env, "FAKELIMA_LEAVE_BROKEN=1")
		runCmd(c)
		r := e.run(dir, "up")
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "Broken") || !strings.Contains(r.Stderr, "limactl stop -f broken-dev") {
			t.Errorf("want the recovery command: %s", r)
		}
	})
}

// timeoutReason is limactl's reason for a start that timed out, in Lima
// 1.x's quoting ("running") and 2.2's (`running`).
var timeoutReason = regexp.MustCompile("failed: exit status 1: did not receive an event with the [\"`]running[\"`] status")
