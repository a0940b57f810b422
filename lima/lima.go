// Package lima drives the limactl command-line tool through its public
// contract: `limactl list --json` (one JSON object per line), start, stop,
// delete and validate. It never reads Lima's on-disk store except the
// hostagent log that start writes, for progress.
package lima

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Instance statuses reported by limactl.
const (
	StatusRunning = "Running"
	StatusStopped = "Stopped"
	StatusBroken  = "Broken"
)

// Instance is the subset of `limactl list --json` that sysvm reads.
type Instance struct {
	Name          string `json:"name"`
	Status        string `json:"status"`
	Dir           string `json:"dir"`
	VMType        string `json:"vmType"`
	Arch          string `json:"arch"`
	CPUs          int    `json:"cpus"`
	Memory        int64  `json:"memory"`
	Disk          int64  `json:"disk"`
	SSHLocalPort  int    `json:"sshLocalPort"`
	SSHConfigFile string `json:"sshConfigFile"`
	SSHAddress    string `json:"sshAddress"`
	HostAgentPID  int    `json:"hostAgentPID"`
	DriverPID     int    `json:"driverPID"`
	Errors        []any  `json:"errors"`
	LimaVersion   string `json:"limaVersion"`
	IdentityFile  string `json:"IdentityFile"`
	LimaHome      string `json:"LimaHome"`
}

// Client runs one limactl binary.
type Client struct {
	// Exe is the limactl executable.
	Exe string
	// Env is the environment for limactl; nil means this process's.
	Env []string
	// Dir is limactl's working directory. limactl writes lima.REJECTED.yaml
	// into its cwd on some errors, so it should be a scratch directory.
	Dir string
	// Log receives the argv of every run at debug level; nil discards.
	Log *slog.Logger
}

// ErrNotInstalled means no limactl could be found.
var ErrNotInstalled = errors.New("limactl was not found")

// Find locates limactl: $LIMACTL if set, else limactl on PATH.
func Find(getenv func(string) string) (string, error) {
	if p := getenv("LIMACTL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("LIMACTL=%q: %w: %w", p, ErrNotInstalled, err)
		}
		return p, nil
	}
	p, err := exec.LookPath("limactl")
	if err != nil {
		return "", ErrNotInstalled
	}
	return p, nil
}

// Home returns LIMA_HOME as Lima resolves it (default ~/.lima, symlinks resolved).
func Home(getenv func(string) string) string {
	h := getenv("LIMA_HOME")
	if h == "" {
		home, _ := os.UserHomeDir()
		h = filepath.Join(home, ".lima")
	}
	if r, err := filepath.EvalSymlinks(h); err == nil {
		h = r
	}
	return h
}

// CommandError is a failed limactl run, with what it printed on stderr.
type CommandError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("limactl %s failed: %v", strings.Join(e.Args, " "), e.Err)
	if s := e.Reason(); s != "" {
		msg += ": " + s
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

// Reason extracts the message of limactl's fatal line, or its last stderr line.
func (e *CommandError) Reason() string {
	lines := strings.Split(strings.TrimSpace(e.Stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "level=fatal") {
			return LogMessage(lines[i])
		}
	}
	return LogMessage(lines[len(lines)-1])
}

// LogMessage returns the msg="..." part of a logrus text line, or the line.
func LogMessage(line string) string {
	i := strings.Index(line, `msg="`)
	if i < 0 {
		return strings.TrimSpace(line)
	}
	rest := line[i+4:]
	// The value is a Go-quoted string; find its closing quote.
	for j := 1; j < len(rest); j++ {
		if rest[j] == '\\' {
			j++
			continue
		}
		if rest[j] == '"' {
			var s string
			if json.Unmarshal([]byte(rest[:j+1]), &s) == nil {
				return s
			}
			return rest[1:j]
		}
	}
	return strings.TrimSpace(line)
}

// NotFoundError means the instance does not exist.
type NotFoundError struct{ Name string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("Lima instance %q does not exist", e.Name) }

func (c *Client) cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.Exe, args...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	// Put limactl in a session of its own, away from the terminal: Ctrl-C
	// there must not kill a VM that is booting (sysvm decides what to
	// cancel), and the VM's long-lived processes must not hold the terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if c.Log != nil {
		c.Log.Debug("exec", "argv", append([]string{c.Exe}, args...))
	}
	return cmd
}

// run runs limactl and returns stdout; stderr goes into the error.
func (c *Client) run(ctx context.Context, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := c.cmd(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &CommandError{Args: args, Stderr: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// List returns the named instances, or all of them when no name is given.
// Names that do not exist are left out; limactl's exit status for them
// differs between versions and is not treated as an error.
func (c *Client) List(ctx context.Context, names ...string) ([]Instance, error) {
	out, err := c.run(ctx, append([]string{"list", "--json"}, names...)...)
	insts, perr := parseList(out)
	if perr != nil {
		return nil, fmt.Errorf("reading `limactl list --json`: %w", perr)
	}
	var ce *CommandError
	if err != nil && !(errors.As(err, &ce) && len(names) > 0 && strings.Contains(ce.Stderr, "No instance")) {
		return nil, err
	}
	return insts, nil
}

func parseList(out []byte) ([]Instance, error) {
	var insts []Instance
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var in Instance
		if err := json.Unmarshal(line, &in); err != nil {
			return nil, err
		}
		insts = append(insts, in)
	}
	return insts, sc.Err()
}

// Inspect returns one instance, or a *NotFoundError.
func (c *Client) Inspect(ctx context.Context, name string) (*Instance, error) {
	insts, err := c.List(ctx, name)
	if err != nil {
		return nil, err
	}
	for i := range insts {
		if insts[i].Name == name {
			return &insts[i], nil
		}
	}
	return nil, &NotFoundError{Name: name}
}

// StartOptions configure a start.
type StartOptions struct {
	// ConfigFile creates the instance from this file; only for a new instance.
	ConfigFile string
	// Timeout is passed as --timeout (0: limactl's default).
	Timeout string
	// LogFile, if set, receives limactl's stderr. A file rather than a pipe:
	// a start left running after sysvm exits must not die of SIGPIPE.
	LogFile string
}

// Start creates (with ConfigFile) or starts an instance and waits for READY.
func (c *Client) Start(ctx context.Context, name string, o StartOptions) error {
	args := []string{"start", "--tty=false"}
	if o.Timeout != "" {
		args = append(args, "--timeout="+o.Timeout)
	}
	if o.ConfigFile != "" {
		args = append(args, "--name="+name, o.ConfigFile)
	} else {
		args = append(args, name)
	}
	var stderr bytes.Buffer
	cmd := c.cmd(ctx, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = &stderr
	if o.LogFile != "" {
		f, err := os.OpenFile(o.LogFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("opening %s: %w", o.LogFile, err)
		}
		defer f.Close()
		cmd.Stderr = f
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		msg := stderr.String()
		if o.LogFile != "" {
			b, _ := os.ReadFile(o.LogFile)
			msg = string(b)
		}
		return &CommandError{Args: args, Stderr: msg, Err: err}
	}
	return nil
}

// Stop stops a running instance; force kills it whatever its state.
func (c *Client) Stop(ctx context.Context, name string, force bool) error {
	args := []string{"stop", "--tty=false"}
	if force {
		args = append(args, "-f")
	}
	_, err := c.run(ctx, append(args, name)...)
	return err
}

// Delete removes an instance; force stops it first if needed.
func (c *Client) Delete(ctx context.Context, name string, force bool) error {
	args := []string{"delete", "--tty=false"}
	if force {
		args = append(args, "-f")
	}
	_, err := c.run(ctx, append(args, name)...)
	return err
}

// Validate checks a config file with `limactl validate`.
func (c *Client) Validate(ctx context.Context, file string) error {
	_, err := c.run(ctx, "validate", file)
	return err
}
