// Package lima drives the limactl command-line tool through its public
// contract: `limactl list --json` (one JSON object per line), start, stop,
// delete, edit --set and validate.
//
// It is also the only package that knows Lima's private instance directory
// ($LIMA_HOME/<name>, instance.go): where the ssh.config is, the
// directories its config mounts, the host agent's events and log, the serial console logs and the host key
// fingerprints a guest prints there (console.go), and what a crash leaves
// behind: pid files, the command lines of the processes they name, and
// dead sockets (pidfiles.go). It only reads there, except for a
// half-deleted instance, a directory without lima.yaml that no limactl
// command removes (halfdeleted.go): on its caller's word it removes that
// one directory or moves it out of Lima's instance namespace. What to do
// about what it finds (recovery, host key trust, progress, half-deleted
// instances) is its callers' decision.
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
	"strconv"
	"strings"
	"sync"
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
	SSHLocalPort  int    `json:"sshLocalPort"`
	SSHConfigFile string `json:"sshConfigFile"`
	// VMType is the driver (qemu, vz); its pid file is Dir/<VMType>.pid.
	VMType string `json:"vmType"`
	// HostAgentPID is the live pid Lima read from the host agent's pid
	// file (0 when the file is missing or its pid is dead).
	HostAgentPID int `json:"hostAgentPID,omitempty"`
	// Problems is what limactl logged about this instance's errors (its
	// `errors=[...]` warning field), when it logged anything: the items of
	// its JSON `errors` carry no text in any version ({} up to 1.x,
	// dropped by 2.x --json: Lima v2.0.0 cmd/limactl/list.go).
	Problems []string `json:"-"`
}

// Client runs one limactl binary.
type Client struct {
	// Exe is the limactl executable.
	Exe string
	// Dir is limactl's working directory. limactl writes lima.REJECTED.yaml
	// into its cwd on some errors, so it should be a scratch directory.
	Dir string
	// Home is LIMA_HOME as limactl resolves it (see Home); "" means
	// Home(os.Getenv). List looks at instance directories there to tell a
	// missing instance from a broken one without reading limactl's messages.
	Home string
	// CacheDir, if set, keeps the limactl version between processes.
	CacheDir string
	// Log receives the argv of every run at debug level; nil discards.
	Log *slog.Logger

	mu      sync.Mutex
	version *Version
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
	i := strings.Index(line, `msg=`)
	if i < 0 {
		return strings.TrimSpace(line)
	}
	if s, ok := unquoteLeading(line[i+4:]); ok {
		return s
	}
	return strings.TrimSpace(line)
}

// unquoteLeading decodes the Go-quoted string at the start of s.
func unquoteLeading(s string) (string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", false
	}
	for j := 1; j < len(s); j++ {
		if s[j] == '\\' {
			j++
			continue
		}
		if s[j] == '"' {
			if u, err := strconv.Unquote(s[:j+1]); err == nil {
				return u, true
			}
			return s[1:j], true
		}
	}
	return "", false
}

// NotFoundError means the instance does not exist.
type NotFoundError struct{ Name string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("Lima instance %q does not exist", e.Name) }

func (c *Client) cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.Exe, args...)
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
// Names that do not exist are left out. An instance directory without
// lima.yaml (left by an interrupted create or delete) is returned as
// StatusBroken in every Lima version; before 2.2 limactl itself fails the
// whole list over one (lima-vm/lima#5236), so List then asks again for the
// healthy names only and never lets one project's broken instance fail
// another's command.
func (c *Client) List(ctx context.Context, names ...string) ([]Instance, error) {
	insts, err := c.list(ctx, names...)
	if err == nil {
		return insts, nil
	}
	if len(names) == 0 {
		if names, err = c.instanceDirs(); err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, nil
		}
		insts, err = c.list(ctx, names...)
		if err == nil {
			return insts, nil
		}
	}
	// limactl failed for some names: sort them out from the directories.
	got := map[string]bool{}
	for _, in := range insts {
		got[in.Name] = true
	}
	var retry []string
	for _, n := range names {
		if got[n] {
			continue
		}
		dir := filepath.Join(c.home(), n)
		if _, serr := os.Stat(dir); errors.Is(serr, os.ErrNotExist) {
			continue // does not exist: limactl's "unmatched" exit 1
		}
		if _, serr := os.Stat(filepath.Join(dir, configFile)); errors.Is(serr, os.ErrNotExist) {
			insts = append(insts, Instance{Name: n, Status: StatusBroken, Dir: dir,
				Problems: []string{filepath.Join(dir, configFile) + " is missing"}})
			continue
		}
		retry = append(retry, n)
	}
	if len(retry) > 0 {
		more, rerr := c.list(ctx, retry...)
		if rerr != nil && len(more) < len(retry) {
			return nil, rerr
		}
		insts = append(insts, more...)
	}
	return insts, nil
}

// list runs `limactl list --json NAMES...`. It returns what limactl printed
// even when it exits non-zero, which it does for unmatched names.
func (c *Client) list(ctx context.Context, names ...string) ([]Instance, error) {
	args := append([]string{"list", "--json"}, names...)
	var stdout, stderr bytes.Buffer
	cmd := c.cmd(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	insts, perr := parseList(stdout.Bytes())
	if perr != nil {
		return nil, fmt.Errorf("reading `limactl list --json`: %w", perr)
	}
	attachProblems(insts, stderr.String())
	if runErr != nil {
		return insts, &CommandError{Args: args, Stderr: stderr.String(), Err: runErr}
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

// attachProblems copies the `errors=[...]` field of limactl's warnings onto
// the instances they name. The name is quoted "x" before 2.2 and `x` from
// 2.2 (Lima v2.2.0 cmd/limactl/list.go), so both are accepted.
func attachProblems(insts []Instance, stderr string) {
	for _, line := range strings.Split(stderr, "\n") {
		field := logField(line, "errors")
		if field == "" {
			continue
		}
		msg := LogMessage(line)
		for i := range insts {
			n := insts[i].Name
			if strings.Contains(msg, `"`+n+`"`) || strings.Contains(msg, "`"+n+"`") {
				insts[i].Problems = append(insts[i].Problems, strings.TrimSuffix(strings.TrimPrefix(field, "["), "]"))
			}
		}
	}
}

// logField returns the value of key=value in a logrus text line, unquoted.
func logField(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	rest := line[i+len(key)+2:]
	if v, ok := unquoteLeading(rest); ok {
		return v
	}
	v, _, _ := strings.Cut(rest, " ")
	return v
}

// instanceDirs lists what limactl treats as instances: the directories in
// LIMA_HOME not starting with "." or "_" (Lima v2.2.0 pkg/store/store.go).
func (c *Client) instanceDirs() ([]string, error) {
	entries, err := os.ReadDir(c.home())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing Lima instances in %s: %w", c.home(), err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); e.IsDir() && !strings.HasPrefix(n, ".") && !strings.HasPrefix(n, "_") {
			names = append(names, n)
		}
	}
	return names, nil
}

func (c *Client) home() string {
	if c.Home != "" {
		return c.Home
	}
	return Home(os.Getenv)
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
	// a start left running after sysvm exits must not die of SIGPIPE. It is
	// locked while limactl runs (see StartRunning); Start returns
	// ErrStartRunning when another start holds it.
	LogFile string
	// Progress asks limactl to log the guest's cloud-init output while it
	// boots ("[cloud-init] ..." lines). Only Lima 2.0+ has --progress; with
	// an older or unknown version it is left out. It is left out too where
	// it would change when start returns: with --progress, READY waits for
	// cloud-init's "completed" event (Lima v2.2.0
	// pkg/instance/start.go:408-410), which the host agent only watches
	// for a Linux guest that is not `plain` (pkg/hostagent/hostagent.go:654-664),
	// so a plain config would wait out the whole timeout.
	Progress bool
}

// Start creates (with ConfigFile) or starts an instance and waits for READY.
func (c *Client) Start(ctx context.Context, name string, o StartOptions) error {
	args := []string{"start", "--tty=false"}
	if o.Timeout != "" {
		args = append(args, "--timeout="+o.Timeout)
	}
	if o.Progress {
		config := o.ConfigFile
		if config == "" {
			config = InstanceAt(c.home(), name).config()
		}
		if v, err := c.Version(ctx); err == nil && v.AtLeast(2, 0) && watchesCloudInit(config) {
			args = append(args, "--progress")
		}
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
		f, err := openStartLog(o.LogFile)
		if err != nil {
			return err
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

// ErrStartRunning means another `limactl start` of the instance, begun by
// an earlier sysvm that was interrupted, still runs.
var ErrStartRunning = errors.New("another limactl start of this instance is still running")

// openStartLog opens a start's log, locked for as long as the limactl that
// writes it runs: limactl inherits the descriptor as its stderr, and so the
// lock. (Its host agent does not: Lima starts it with logs of its own.) A
// start interrupted with Ctrl-C therefore keeps the lock until it ends, and
// StartRunning can tell.
func openStartLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, ErrStartRunning
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// StartRunning reports whether a limactl start writing the log at path
// still runs (see StartOptions.LogFile).
func StartRunning(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return true
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// Stop stops a running instance; force kills it whatever its state. A
// graceful stop can take minutes: limactl waits up to 3m10s for the
// hostagent to exit, then up to 3 minutes for the Stopped status (Lima
// v2.2.0 pkg/instance/stop.go), so ctx should allow for that.
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
