package main

import (
	"fmt"
	"syscall"
)

const prSetChildSubreaper = 36

// becomeSubreaper makes this process the child subreaper of its subtree.
func becomeSubreaper() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", errno)
	}
	return nil
}
