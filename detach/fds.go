package detach

import (
	"os"
	"strconv"
	"syscall"
)

// CloseInheritedFDs marks every descriptor above stderr close-on-exec, so
// what sysvm starts (limactl, and through it Lima's host agent and QEMU;
// the broker; a background `up`) inherits only stdin, stdout and stderr.
// A test runner's or a shell's stray descriptor must not stay open in a VM
// that runs for days: whoever waits for it to close would wait as long.
func CloseInheritedFDs() {
	dir := "/proc/self/fd"
	if _, err := os.Stat(dir); err != nil {
		dir = "/dev/fd"
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
