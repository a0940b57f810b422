package lab

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sysvm/sysvm/test/procs"
)

// BrokerSocket is where the lab's sysvm broker listens: each lab has its own
// XDG_RUNTIME_DIR, so its own broker.
func (l *Lab) BrokerSocket() string { return filepath.Join(l.RuntimeDir, "sysvm", "broker.sock") }

// BrokerPID asks the lab's broker for its pid; 0 when none answers.
func (l *Lab) BrokerPID() int { return BrokerPIDAt(l.BrokerSocket()) }

// StopBroker ends the lab's broker, if one answers; see StopBrokerAt.
func (l *Lab) StopBroker(sysvm string) error { return StopBrokerAt(l.BrokerSocket(), sysvm) }

// BrokerPIDAt asks the sysvm broker listening on sock for its pid (a
// {"op":"ping"} line); 0 when none answers.
func BrokerPIDAt(sock string) int {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintln(c, `{"op":"ping"}`)
	var rep struct {
		OK  bool
		PID int
	}
	line, _ := bufio.NewReader(c).ReadBytes('\n')
	if json.Unmarshal(line, &rep) != nil || !rep.OK {
		return 0
	}
	return rep.PID
}

// StopBrokerAt ends the broker listening on sock, if one answers, by its
// pid: SIGTERM, then SIGKILL after five seconds. It signals nothing unless
// that pid runs the sysvm binary given (the one the tests built), so a stale
// or reused pid cannot hit a process the tests did not start.
func StopBrokerAt(sock, sysvm string) error {
	pid := BrokerPIDAt(sock)
	if pid == 0 {
		return nil
	}
	want, err := filepath.EvalSymlinks(sysvm)
	if err != nil {
		return fmt.Errorf("stopping the broker: %w", err)
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		if !procs.Alive(pid) {
			return nil // it left on its own meanwhile
		}
		return fmt.Errorf("stopping the broker: pid %d: %w", pid, err)
	}
	if exe != want {
		return fmt.Errorf("the broker on %s says it is pid %d, which runs %s, not %s: left alone", sock, pid, exe, want)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stopping the broker (pid %d): %w", pid, err)
		}
		if procs.WaitGone(5*time.Second, pid) {
			return nil
		}
	}
	return fmt.Errorf("the broker (pid %d) survived SIGKILL", pid)
}
