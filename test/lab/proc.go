package lab

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat returns the state letter and parent pid of pid (0, 0 if gone).
func procStat(pid int) (byte, int) {
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
	ppid, _ := strconv.Atoi(f[1])
	return f[0][0], ppid
}

// Alive reports whether pid exists and is not a zombie. (On machines whose
// PID 1 does not reap orphans, dead daemons linger as zombies.)
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	state, _ := procStat(pid)
	return state != 'Z' && state != 'X'
}

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

// Descendants returns the live descendants of pid (not pid itself).
func Descendants(pid int) []int {
	children := map[int][]int{}
	for _, p := range allPIDs() {
		if state, ppid := procStat(p); ppid > 0 && state != 'Z' {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
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
