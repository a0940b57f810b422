// Package procs reads Linux's /proc for the lab: process state, parents,
// descendants and environments. It serves the fake limactl and the tests.
package procs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Stat returns the state letter and parent pid of pid (0, 0 if gone).
func Stat(pid int) (state byte, ppid int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 2 {
		return 0, 0
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0][0], ppid
}

// Alive reports whether pid exists and is not a zombie. EPERM counts as
// alive, like Lima's ReadPIDFile. (On machines whose PID 1 does not reap
// orphans, dead daemons linger as zombies.)
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	state, _ := Stat(pid)
	return state != 'Z' && state != 'X'
}

// All lists the numeric entries of /proc.
func All() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Descendants returns the live descendants of the roots (not the roots).
func Descendants(roots ...int) []int {
	children := map[int][]int{}
	for _, p := range All() {
		if state, ppid := Stat(p); ppid > 0 && state != 'Z' {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	seen := map[int]bool{}
	queue := append([]int{}, roots...)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// WaitGone waits up to d until none of pids is alive and reports success.
func WaitGone(d time.Duration, pids ...int) bool {
	deadline := time.Now().Add(d)
	for {
		alive := false
		for _, p := range pids {
			if Alive(p) {
				alive = true
				break
			}
		}
		if !alive {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WithEnv returns the pids whose environment holds kv exactly (e.g.
// "FAKELIMA_INSTANCE_DIR=/tmp/l/foo"), leaving out this process and its
// ancestors. Other users' processes are skipped (unreadable).
func WithEnv(kv string) []int {
	ancestors := map[int]bool{}
	for p := os.Getpid(); p > 1; {
		ancestors[p] = true
		_, pp := Stat(p)
		if pp == p || pp == 0 {
			break
		}
		p = pp
	}
	needle := []byte(kv)
	var out []int
	for _, pid := range All() {
		if ancestors[pid] {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
		if err != nil {
			continue
		}
		for _, e := range bytes.Split(b, []byte{0}) {
			if bytes.Equal(e, needle) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// CPUTicks returns the user and system CPU time pid has used, in clock
// ticks (fields 14 and 15 of /proc/<pid>/stat); ok is false when it is gone.
func CPUTicks(pid int) (utime, stime uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, 0, false
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	return u, s, err1 == nil && err2 == nil
}
