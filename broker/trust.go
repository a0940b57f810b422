package broker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// UntrustedError means the broker's socket, or the process listening on
// it, is not the user's own: nothing was sent to it.
type UntrustedError struct {
	Socket string
	Reason string
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("not talking to the broker socket %s: %s", e.Socket, e.Reason)
}

// Hints says what to do about it.
func (e *UntrustedError) Hints() []string {
	return []string{
		"sysvm dials the VM directly meanwhile",
		fmt.Sprintf("point XDG_RUNTIME_DIR at a directory only you can use, or remove %s if it is a stale leftover of yours", filepath.Dir(e.Socket)),
	}
}

// checkDir returns why dir cannot hold the user's broker socket: it must be
// a real directory (not a symlink), owned by the user, with mode 0700, so
// no other user can have put a listener there.
func checkDir(dir string) string {
	st, err := os.Lstat(dir)
	if err != nil {
		return err.Error()
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return dir + " is a symlink"
	}
	if !st.IsDir() {
		return dir + " is not a directory"
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return fmt.Sprintf("%s is owned by uid %d, not by you (uid %d)", dir, sys.Uid, os.Getuid())
	}
	if perm := st.Mode().Perm(); perm != 0o700 {
		return fmt.Sprintf("%s has mode %#o, not 0700", dir, perm)
	}
	return ""
}

// dialTrusted connects to the broker socket after checking its directory,
// and keeps the connection only if the listening process runs as the user.
func dialTrusted(sock string, timeout time.Duration) (*net.UnixConn, error) {
	dir := filepath.Dir(sock)
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, err // no broker yet: the one to start makes it
	}
	if why := checkDir(dir); why != "" {
		return nil, &UntrustedError{Socket: sock, Reason: why}
	}
	c, err := net.DialTimeout("unix", sock, timeout)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UnixConn)
	uid, err := peerUID(uc)
	if err != nil || uid != os.Getuid() {
		uc.Close()
		why := fmt.Sprintf("it is served by uid %d, not by you (uid %d)", uid, os.Getuid())
		if err != nil {
			why = "its owner cannot be checked: " + err.Error()
		}
		return nil, &UntrustedError{Socket: sock, Reason: why}
	}
	return uc, nil
}
