package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// removeAgentSockets removes the forwarded-agent sockets that the sshd
// processes among pids left behind when they were killed. sshd puts each in
// a directory of its own under the guest's /tmp, which a real VM loses when
// it powers off; the fake's guest shares the host's /tmp.
func removeAgentSockets(pids []int) {
	socks, _ := filepath.Glob("/tmp/ssh-*/agent.*")
	for _, s := range socks {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Ext(s), "."))
		if err != nil || !slices.Contains(pids, pid) {
			continue
		}
		if os.Remove(s) == nil {
			_ = os.Remove(filepath.Dir(s)) // only when it is empty
		}
	}
}
