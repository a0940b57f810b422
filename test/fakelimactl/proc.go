package main

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

// processAlive reports whether pid exists and is not a zombie. EPERM counts
// as alive, like Lima's ReadPIDFile.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	state, _ := procState(pid)
	return state != 'Z' && state != 'X'
}

// procState returns the state letter and parent pid from /proc/<pid>/stat
// (0, 0 if unreadable).
func procState(pid int) (byte, int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0
	}
	fields := strings.Fields(string(b[i+2:]))
	if len(fields) < 2 {
		return 0, 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return fields[0][0], ppid
}

// allPIDs lists the numeric entries of /proc.
func allPIDs() []int {
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

// descendants returns every live descendant of the given roots (not the
// roots themselves), found by walking parent pids in /proc.
func descendants(roots ...int) []int {
	children := map[int][]int{}
	for _, pid := range allPIDs() {
		if _, ppid := procState(pid); ppid > 0 {
			children[ppid] = append(children[ppid], pid)
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

// processesWithEnv returns the pids whose environment contains kv exactly
// (e.g. "FAKELIMA_INSTANCE_DIR=/tmp/l/foo"), excluding this process and its
// ancestors. Processes of other users are skipped (unreadable).
func processesWithEnv(kv string) []int {
	self := os.Getpid()
	ancestors := map[int]bool{}
	for p := self; p > 1; {
		ancestors[p] = true
		_, pp := procState(p)
		if pp == p || pp == 0 {
			break
		}
		p = pp
	}
	needle := []byte(kv)
	var out []int
	for _, pid := range allPIDs() {
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

// killAll sends sig to every pid, ignoring errors.
func killAll(sig syscall.Signal, pids []int) {
	for _, p := range pids {
		if p > 0 && p != os.Getpid() {
			_ = syscall.Kill(p, sig)
		}
	}
}

// waitGone waits up to d for every pid to be dead (or a zombie).
func waitGone(d time.Duration, pids ...int) bool {
	deadline := time.Now().Add(d)
	for {
		alive := false
		for _, p := range pids {
			if processAlive(p) {
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
