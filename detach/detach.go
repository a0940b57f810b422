// Package detach starts a process that outlives its caller: in a session
// of its own (no controlling terminal, out of reach of the terminal's
// Ctrl-C), stdin from /dev/null, stdout and stderr appended to a log, and
// no other descriptor inherited. It never waits for, signals or watches
// the process it started: the caller holds its pid.
package detach

import (
	"fmt"
	"os"
	"syscall"
)

// Start runs argv (argv[0] is the executable) in dir, detached, with its
// output in logPath (created 0600; truncated when truncate is set). It
// returns the process so the caller may reap it; it does not wait.
func Start(argv []string, dir, logPath string, truncate bool) (*os.Process, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if truncate {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	logf, err := os.OpenFile(logPath, flags, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{
		Dir:   dir,
		Env:   os.Environ(),
		Files: []*os.File{null, logf, logf},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return nil, fmt.Errorf("starting %s in the background: %w", argv[0], err)
	}
	return p, nil
}
