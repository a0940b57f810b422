package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sysvm/sysvm/test/procs"
)

func stopAction(f *parsedFlags) error {
	name, err := instanceArg(f)
	if err != nil {
		return err
	}
	inst, err := inspect(name)
	if err != nil {
		return err
	}
	if f.bool("force") {
		stopForcibly(inst)
	} else if err := stopGracefully(inst); err != nil {
		return err
	}
	// After a stop that succeeded, even a forced one (Lima v1.2.2
	// cmd/limactl/stop.go:45-52; v2.2.0 the same).
	return reconcileNetworks()
}

// stopGracefully mirrors instance.StopGracefully@v1.2.2.
func stopGracefully(inst *instance) error {
	if inst.Status != statusRunning {
		return fmt.Errorf("expected status %s, got %s (maybe use `limactl stop -f`?)", q(statusRunning), q(inst.Status))
	}
	begin := time.Now()
	infof("Sending SIGINT to hostagent process %d", inst.HostAgentPID)
	if err := syscall.Kill(inst.HostAgentPID, syscall.SIGINT); err != nil {
		errorf("%v", err)
	}
	infof("Waiting for the host agent and the driver processes to shut down")
	w := newEventWatcher(filepath.Join(inst.Dir, fnHAStdout), filepath.Join(inst.Dir, fnHAStderr), begin, true)
	defer w.close()
	deadline := time.Now().Add(3*time.Minute + 10*time.Second)
	exiting := false
	for !exiting {
		stop, err := w.poll(func(ev haEvent) bool {
			if len(ev.Status.Errors) > 0 {
				errorf("%+v", ev.Status.Errors)
			}
			return ev.Status.Exiting
		})
		if err != nil {
			return err
		}
		if stop {
			exiting = true
			break
		}
		if time.Now().After(deadline) {
			return errNoEvent("exiting")
		}
		time.Sleep(50 * time.Millisecond)
	}
	infof("Waiting for the instance to shut down")
	deadline = time.Now().Add(3 * time.Minute)
	for {
		updated, err := inspect(inst.Name)
		if err != nil {
			return fmt.Errorf("failed to inspect instance status: %w", err)
		}
		if updated.Status == statusStopped {
			infof("The instance %s has shut down", updated.Name)
			killGuest(inst.Dir, runWithTimeout)
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out waiting for instance to shut down after 3 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopForcibly mirrors instance.StopForcibly@v1.2.2. Because the fake's
// driver is an sshd whose connection children run in their own sessions,
// the whole process tree is killed, plus every guest process.
func stopForcibly(inst *instance) {
	var roots []int
	if inst.DriverPID > 0 {
		infof("Sending SIGKILL to the %s driver process %d", inst.VMType, inst.DriverPID)
		roots = append(roots, inst.DriverPID)
	} else {
		infof("The %s driver process seems already stopped", inst.VMType)
	}
	if inst.HostAgentPID > 0 {
		infof("Sending SIGKILL to the host agent process %d", inst.HostAgentPID)
		roots = append(roots, inst.HostAgentPID)
	} else {
		infof("The host agent process seems already stopped")
	}
	all := append(append([]int{}, roots...), procs.Descendants(roots...)...)
	killAll(syscall.SIGKILL, all)
	procs.WaitGone(3*time.Second, all...)
	removeAgentSockets(all)
	killGuest(inst.Dir, runWithTimeout)

	suffixes := []string{".pid", ".sock", ".tmp"}
	infof("Removing %s under %q", "*.pid *.sock *.tmp", inst.Dir)
	entries, err := os.ReadDir(inst.Dir)
	if err != nil {
		errorf("%v", err)
		return
	}
	for _, e := range entries {
		p := filepath.Join(inst.Dir, e.Name())
		for _, s := range suffixes {
			if strings.HasSuffix(p, s) {
				infof("Removing %q", p)
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					errorf("%v", err)
				}
			}
		}
	}
}

func deleteAction(f *parsedFlags) error {
	if len(f.args) == 0 {
		return errors.New("requires at least 1 arg(s), only received 0")
	}
	force := f.bool("force")
	var errs []error
	for _, name := range f.args {
		inst, err := inspect(name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				if err := missingInstance(name); err != nil {
					errs = append(errs, err)
				}
				continue
			}
			return err
		}
		if inst.Protected {
			return fmt.Errorf("failed to delete instance %s: %w", q(name),
				errors.New("instance is protected to prohibit accidental removal (Hint: use `limactl unprotect`)"))
		}
		if !force && inst.Status != statusStopped {
			return fmt.Errorf("failed to delete instance %s: expected status %s, got %s", q(name), q(statusStopped), q(inst.Status))
		}
		stopForcibly(inst)
		if err := os.RemoveAll(inst.Dir); err != nil {
			return fmt.Errorf("failed to delete instance %s: failed to remove %s: %w", q(name), q(inst.Dir), err)
		}
		infof("Deleted %s (%s)", q(name), q(inst.Dir))
	}
	// The network check over what is left (Lima v1.2.2
	// cmd/limactl/delete.go:62; v2.2.0 :67-70, its error joined to the others).
	if err := reconcileNetworks(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// runWithTimeout runs cmd, killing it after 5 s.
func runWithTimeout(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		return <-done
	}
}

// instanceArg is the one optional instance argument of stop and edit,
// "default" when absent (cobra's MaximumNArgs(1)).
func instanceArg(f *parsedFlags) (string, error) {
	if len(f.args) > 1 {
		return "", fmt.Errorf("accepts at most 1 arg(s), received %d", len(f.args))
	}
	if len(f.args) == 1 {
		return f.args[0], nil
	}
	return "default", nil
}
