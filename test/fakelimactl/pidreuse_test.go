package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/test/lab"
	"github.com/sysvm/sysvm/test/procs"
)

// TestReusedPidAsLimaSeesIt: Lima checks only that a pid file's process is
// alive (signal 0), not what it is, so after a crash a pid reused by an
// unrelated program makes the instance Broken, and `limactl stop -f`
// SIGKILLs that program (Lima v2.2.0 pkg/store/instance.go Inspect,
// pkg/instance/stop.go StopForcibly). The fake does the same, so sysvm's
// recovery is tested against the hazard real Lima has.
func TestReusedPidAsLimaSeesIt(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	l.MustStart("x")
	if err := l.Crash("x"); err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "1000")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
	})
	pid := sleep.Process.Pid
	if err := os.WriteFile(filepath.Join(l.InstanceDir("x"), "ha.pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := l.Limactl("list", "--json", "x")
	if !strings.Contains(res.Stdout, `"status":"Broken"`) || !strings.Contains(res.Stdout, `"hostAgentPID":`+strconv.Itoa(pid)) {
		t.Errorf("list with ha.pid naming an unrelated live process: %s", res)
	}
	l.MustLimactl("stop", "-f", "x")
	if procs.Alive(pid) {
		t.Errorf("stop -f left pid %d alive; real Lima SIGKILLs it", pid)
	}
	if got := one(t, l, "x")["status"]; got != "Stopped" {
		t.Errorf("status after stop -f = %v", got)
	}
}
