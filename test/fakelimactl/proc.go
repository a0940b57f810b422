package main

import (
	"os"
	"syscall"
)

// killAll sends sig to every pid, ignoring errors.
func killAll(sig syscall.Signal, pids []int) {
	for _, p := range pids {
		if p > 0 && p != os.Getpid() {
			_ = syscall.Kill(p, sig)
		}
	}
}
