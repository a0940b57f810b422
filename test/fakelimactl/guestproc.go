package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sysvm/sysvm/test/procs"
)

// The fake guest is the host, so its /proc/stat would show the whole
// machine's CPU, busy with everything else that runs there. The hostagent
// therefore keeps a guest view of it in guest/proc/stat, which guest
// sessions find through SYSVM_GUEST_PROC: one CPU whose user and system
// time are the CPU time the guest's processes (those carrying
// FAKELIMA_INSTANCE_DIR) have used since the VM started, counting the
// ones that have exited, and whose idle time is the rest of the wall clock.

const fnGuestProc = "proc"

// guestProcDir is where the guest's /proc view lives.
func (ha *hostAgent) guestProcDir() string {
	return filepath.Join(ha.path(fnFakeGuestDir), fnGuestProc)
}

// keepGuestStat rewrites guest/proc/stat every half second until stop.
func (ha *hostAgent) keepGuestStat(stop <-chan struct{}) {
	dir := ha.guestProcDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		haLog("warning", err.Error())
		return
	}
	begin := time.Now()
	used := map[int][2]uint64{} // pid → last utime, stime seen
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		for _, pid := range procs.WithEnv("FAKELIMA_INSTANCE_DIR=" + ha.dir) {
			if u, s, ok := procs.CPUTicks(pid); ok {
				used[pid] = [2]uint64{u, s}
			}
		}
		var user, sys uint64
		for _, us := range used {
			user, sys = user+us[0], sys+us[1]
		}
		// /proc/stat counts in USER_HZ, 100 per second.
		wall := uint64(time.Since(begin) / (10 * time.Millisecond))
		idle := uint64(0)
		if wall > user+sys {
			idle = wall - user - sys
		}
		line := fmt.Sprintf("%d 0 %d %d 0 0 0 0 0 0", user, sys, idle)
		text := fmt.Sprintf("cpu  %s\ncpu0 %s\n", line, line)
		tmp := filepath.Join(dir, ".stat.tmp")
		if os.WriteFile(tmp, []byte(text), 0o644) == nil {
			_ = os.Rename(tmp, filepath.Join(dir, "stat"))
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}
