package main

import (
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// reaper makes the hostagent a child subreaper and reaps every process of
// its subtree. Orphans of the fake guest (the daemonized tmux server, the
// ssh ControlMaster, killed sshd session children) are then reparented to the
// hostagent instead of PID 1, which on some test machines never reaps
// them. It also keeps every guest process inside the hostagent's process
// tree, so powering the VM off is "kill all descendants".
//
// Because it calls wait4(-1), children must not be waited for with
// exec.Cmd.Wait; use reaper.run / reaper.wait instead.
type reaper struct {
	mu      sync.Mutex
	waiters map[int]chan syscall.WaitStatus
	exited  map[int]syscall.WaitStatus
}

func newReaper() (*reaper, error) {
	if err := becomeSubreaper(); err != nil {
		return nil, err
	}
	r := &reaper{waiters: map[int]chan syscall.WaitStatus{}, exited: map[int]syscall.WaitStatus{}}
	go r.loop()
	return r, nil
}

func (r *reaper) loop() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			time.Sleep(50 * time.Millisecond) // ECHILD: nothing to reap yet
			continue
		}
		r.mu.Lock()
		if ch, ok := r.waiters[pid]; ok {
			delete(r.waiters, pid)
			ch <- ws
		} else {
			r.exited[pid] = ws
		}
		r.mu.Unlock()
	}
}

// waitCh returns a channel that receives pid's wait status once reaped.
func (r *reaper) waitCh(pid int) <-chan syscall.WaitStatus {
	ch := make(chan syscall.WaitStatus, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ws, ok := r.exited[pid]; ok {
		delete(r.exited, pid)
		ch <- ws
		return ch
	}
	r.waiters[pid] = ch
	return ch
}

// run starts cmd (whose Stdout/Stderr must be files or nil, never buffers)
// and waits for it, killing it after timeout.
func (r *reaper) run(cmd *exec.Cmd, timeout time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	select {
	case ws := <-r.waitCh(cmd.Process.Pid):
		return waitStatusError(ws)
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-r.waitCh(cmd.Process.Pid)
		return fmt.Errorf("timed out after %v", timeout)
	}
}

// waitStatusError converts a wait status into nil or a descriptive error.
func waitStatusError(ws syscall.WaitStatus) error {
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	case ws.Exited():
		return fmt.Errorf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Errorf("signal: %v", ws.Signal())
	default:
		return fmt.Errorf("wait status %#x", uint32(ws))
	}
}
