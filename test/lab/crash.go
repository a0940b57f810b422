package lab

import (
	"fmt"
	"syscall"
	"time"

	"github.com/sysvm/sysvm/test/procs"
)

// Crash does to a running instance what a host's power loss does to a
// VM: it SIGKILLs the hostagent first (so it cleans nothing up), then its
// children, the sshd standing in for QEMU with everything below it, and
// every guest process. Pid files and sockets stay behind, as after a crash.
func (l *Lab) Crash(name string) error {
	ha, err := l.HostAgentPid(name)
	if err != nil {
		return err
	}
	sshd, err := l.SSHDPid(name)
	if err != nil {
		return err
	}
	kids := procs.Descendants(ha, sshd)
	if err := syscall.Kill(ha, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill hostagent %d: %w", ha, err)
	}
	all := append([]int{ha, sshd}, kids...)
	all = append(all, procs.WithEnv("FAKELIMA_INSTANCE_DIR="+l.InstanceDir(name))...)
	for _, p := range all[1:] {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	if !procs.WaitGone(5*time.Second, all...) {
		return fmt.Errorf("instance %s: processes %v survived SIGKILL", name, all)
	}
	return nil
}
