package lima

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStartLogLock: the lock on a start's log lives as long as the process
// that inherited the log as its stderr (limactl), even after the sysvm that
// opened it let go: that is how a later sysvm sees a start still running.
func TestStartLogLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vm.start.log")
	if StartRunning(path) {
		t.Fatal("a missing log counts as a running start")
	}
	f, err := openStartLog(path)
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command("sleep", "30")
	child.Stderr = f
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	f.Close() // the interrupted sysvm is gone; its limactl runs on
	if !StartRunning(path) {
		t.Fatal("the running start is not seen")
	}
	if _, err := openStartLog(path); !errors.Is(err, ErrStartRunning) {
		t.Fatalf("a second start opened the log: %v", err)
	}
	child.Process.Kill()
	child.Wait()
	if StartRunning(path) {
		t.Fatal("the start still counts as running after it ended")
	}
	g, err := openStartLog(path)
	if err != nil {
		t.Fatalf("a new start after the old one ended: %v", err)
	}
	g.Close()
}
