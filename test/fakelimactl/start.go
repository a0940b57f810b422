package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const defaultStartTimeout = 10 * time.Minute

// knob returns the value of a FAKELIMA_* test knob for instance name, or ""
// when unset or when FAKELIMA_ONLY names another instance.
func knob(key, name string) string {
	if only := os.Getenv("FAKELIMA_ONLY"); only != "" && only != name {
		return ""
	}
	return os.Getenv(key)
}

func knobOn(key, name string) bool {
	v := knob(key, name)
	return v != "" && v != "0" && v != "false"
}

func createAction(f *parsedFlags) error {
	inst, err := loadOrCreateInstance(f, true)
	if err != nil {
		return err
	}
	if len(inst.Errors) > 0 {
		return fmt.Errorf("errors inspecting instance: %+v", []error(inst.Errors))
	}
	infof("Run `limactl start %s` to start the instance.", inst.Name)
	return nil
}

func startAction(f *parsedFlags) error {
	timeout := defaultStartTimeout
	if f.changed["timeout"] {
		d, err := time.ParseDuration(f.str("timeout"))
		if err != nil {
			return fmt.Errorf("invalid argument %q for %q flag: %v", f.str("timeout"), "--timeout", err)
		}
		if d > 0 {
			timeout = d
		}
	}
	if f.bool("foreground") {
		return errors.New("fakelimactl: --foreground is not supported")
	}
	inst, err := loadOrCreateInstance(f, false)
	if err != nil {
		return err
	}
	if len(inst.Errors) > 0 {
		return fmt.Errorf("errors inspecting instance: %+v", []error(inst.Errors))
	}
	switch inst.Status {
	case statusRunning:
		infof("The instance %s is already running. Run `%s` to open the shell.", q(inst.Name), shellCmdFor(inst.Name))
		return nil
	case statusStopped:
	default:
		warnf("expected status %s, got %s", q(statusStopped), q(inst.Status))
	}
	// Lima v1.2.2 cmd/limactl/start.go:465, v2.2.0 the same place.
	if err := reconcileNetworks(); err != nil {
		return err
	}
	return startInstance(inst, timeout, f.bool("progress"))
}

func shellCmdFor(name string) string {
	if name == "default" {
		return "lima"
	}
	return "limactl shell " + name
}

// loadOrCreateInstance mirrors cmd/limactl/start.go@v1.2.2 for the
// non-interactive path. An argument that is a valid instance name refers to
// an instance; anything else is read as a YAML file ("-" is stdin).
func loadOrCreateInstance(f *parsedFlags, createOnly bool) (*instance, error) {
	if len(f.args) > 1 {
		return nil, fmt.Errorf("accepts at most 1 arg(s), received %d", len(f.args))
	}
	var arg string
	if len(f.args) == 1 {
		arg = f.args[0]
	}
	name := f.str("name")
	if name != "" {
		if err := validateInstName(name); err != nil {
			return nil, err
		}
	}
	if tmpl, ok := templateName(arg); ok && tmpl == "default" && lima.atLeast(2, 0) {
		if name == "" {
			name = "default"
		}
		return createFromDefault(name, createOnly)
	}
	if strings.HasPrefix(arg, "template:") || strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		return nil, fmt.Errorf("fakelimactl: template locator %q is not supported; pass a YAML file", arg)
	}
	if arg == "-" && name == "" {
		return nil, errors.New("must pass instance name with --name when reading template from stdin")
	}
	if err := validateInstName(arg); arg == "" || err == nil {
		instName := name
		if arg == "" {
			if name == "" {
				instName = "default"
			}
		} else {
			if name != "" && name != arg {
				return nil, fmt.Errorf("instance name %q and CLI flag --name=%q cannot be specified together", arg, name)
			}
			instName = arg
		}
		inst, err := inspect(instName)
		if err == nil {
			if createOnly {
				return nil, fmt.Errorf("instance %s already exists", q(instName))
			}
			infof("Using the existing instance %s", q(instName))
			return inst, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if lima.atLeast(2, 0) {
			// The hazard of every version: a name that does not exist is
			// created from the default template (Lima v2.0.0
			// cmd/limactl/start.go loadOrCreateInstance).
			if arg != "" && arg != "default" {
				infof("Creating an instance %s from template:default (Not from template:%s)", q(instName), instName)
				warnf("This form is deprecated. Use `limactl create --name=%s template:default` instead", instName)
			}
			return createFromDefault(instName, createOnly)
		}
		// Deliberate deviation of the 1.2.2 personality: real limactl would
		// create instName from template://default here. sysvm must never
		// rely on that, so the fake fails loudly instead.
		return nil, fmt.Errorf("instance %q does not exist", instName)
	}

	var b []byte
	var err error
	if arg == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 4<<20))
	} else {
		b, err = os.ReadFile(strings.TrimPrefix(arg, "file://"))
	}
	if err != nil {
		return nil, err
	}
	instName := name
	if instName == "" {
		s := strings.ToLower(filepath.Base(arg))
		s = strings.TrimSuffix(strings.TrimSuffix(s, ".yml"), ".yaml")
		if err := validateIdentifier(s); err != nil {
			return nil, fmt.Errorf("filename %q is invalid: %w", arg, err)
		}
		instName = s
	}
	if createOnly {
		if _, err := inspect(instName); err == nil {
			return nil, fmt.Errorf("instance %s already exists", q(instName))
		}
	} else if err := validateInstName(instName); err != nil {
		return nil, err
	}
	infof("Terminal is not available, proceeding without opening an editor")
	return createInstance(instName, b)
}

// templateName returns NAME for a template:NAME (2.0+) or template://NAME
// locator. 2.x warns about the second form (Lima v2.0.0
// pkg/limatmpl/locator.go); in 1.x the first form names no template.
func templateName(arg string) (string, bool) {
	if rest, ok := strings.CutPrefix(arg, "template://"); ok {
		if lima.atLeast(2, 0) {
			warnf("Template locator %s should be written %s since Lima v2.0", "`"+arg+"`", "`template:"+rest+"`")
		}
		return rest, true
	}
	if rest, ok := strings.CutPrefix(arg, "template:"); ok && lima.atLeast(2, 0) {
		return rest, true
	}
	return "", false
}

// defaultTemplate stands in for Lima's template:default: an Ubuntu image
// the fake never downloads and the host home mounted read-only.
const defaultTemplate = `images:
- location: "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-amd64.img"
  arch: "x86_64"
- location: "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-arm64.img"
  arch: "aarch64"
mounts:
- location: "~"
`

// createFromDefault creates name from the default template, or returns the
// instance when it exists and createOnly is false.
func createFromDefault(name string, createOnly bool) (*instance, error) {
	if inst, err := inspect(name); err == nil {
		if createOnly {
			return nil, fmt.Errorf("instance %s already exists", q(name))
		}
		return inst, nil
	}
	infof("Terminal is not available, proceeding without opening an editor")
	return createInstance(name, []byte(defaultTemplate))
}

// createInstance mirrors instance.Create@v1.2.2.
func createInstance(name string, config []byte) (*instance, error) {
	if len(config) == 0 {
		return nil, errors.New("got empty instConfig")
	}
	dir, err := instanceDir(name)
	if err != nil {
		return nil, err
	}
	maxSock := filepath.Join(dir, longestSock)
	if len(maxSock) >= unixPathMax {
		return nil, fmt.Errorf("instance name %s too long: %s must be less than UNIX_PATH_MAX=%d characters, but is %d",
			q(name), q(maxSock), unixPathMax, len(maxSock))
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("instance %s already exists (%s)", q(name), q(dir))
	}
	yamlPath := filepath.Join(dir, fnLimaYAML)
	warnDeprecatedCPUType(config)
	y, err := parseLimaYAML(config, yamlPath)
	if err != nil {
		return nil, err
	}
	if err := validateLimaYAML(y); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(yamlPath, config, 0o644); err != nil {
		return nil, err
	}
	cloud := fmt.Sprintf("#cloud-config\n# Generated by fakelimactl for instance %q; not used by the fake guest.\nhostname: %s\n",
		name, hostnameFor(name))
	if err := os.WriteFile(filepath.Join(dir, fnCloudConfig), []byte(cloud), 0o444); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, fnLimaVersion), []byte("v"+lima.String()), 0o444); err != nil {
		return nil, err
	}
	// Prepare creates the VM's disk; 2.1 renamed diffdisk to disk (Lima
	// v2.1.0 pkg/limatype/filenames/filenames.go). The fake's is empty, and
	// the 1.2.2 personality keeps its old layout without one.
	if lima.atLeast(2, 0) {
		if err := os.WriteFile(filepath.Join(dir, diskFileName()), nil, 0o644); err != nil {
			return nil, err
		}
	}
	if err := ensureHostKey(dir); err != nil {
		return nil, err
	}
	return inspect(name)
}

// startInstance mirrors instance.Start@v1.2.2: it spawns the (fake)
// hostagent in its own session and follows its events.
func startInstance(inst *instance, timeout time.Duration, progress bool) error {
	haPID := filepath.Join(inst.Dir, fnHAPID)
	if _, err := os.Stat(haPID); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("instance %s seems running (hint: remove %s if the instance is not actually running)", q(inst.Name), q(haPID))
	}
	if raw, err := os.ReadFile(filepath.Join(inst.Dir, fnLimaYAML)); err == nil {
		warnDeprecatedCPUType(raw)
	}
	infof("Starting the instance %s with VM driver %s", q(inst.Name), q(inst.VMType))
	if err := ensureUserKey(); err != nil {
		return err
	}
	if err := ensureHostKey(inst.Dir); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	stdoutPath := filepath.Join(inst.Dir, fnHAStdout)
	stderrPath := filepath.Join(inst.Dir, fnHAStderr)
	_ = os.RemoveAll(stdoutPath)
	_ = os.RemoveAll(stderrPath)
	stdoutW, err := os.Create(stdoutPath)
	if err != nil {
		return err
	}
	defer stdoutW.Close()
	// O_APPEND: sshd appends its own log lines to the same file.
	stderrW, err := os.OpenFile(stderrPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer stderrW.Close()

	haArgs := []string{"hostagent", "--pidfile", haPID, "--socket", filepath.Join(inst.Dir, fnHASock)}
	if progress {
		haArgs = append(haArgs, "--progress")
	}
	cmd := exec.Command(exe, append(haArgs, inst.Name)...)
	cmd.Stdout = stdoutW
	cmd.Stderr = stderrW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start the host agent: %w", err)
	}
	if err := waitHostAgentStart(haPID, stdoutPath, stderrPath); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	leaveBroken := knobOn("FAKELIMA_LEAVE_BROKEN", inst.Name)
	var (
		printedPort bool
		running     bool
		evErr       error
		cloudInit   bool // cloud-init progress reported completed
	)
	onEvent := func(ev haEvent) bool {
		if !printedPort && ev.Status.SSHLocalPort != 0 {
			infof("SSH Local Port: %d", ev.Status.SSHLocalPort)
			printedPort = true
		}
		// Lima v2.2.0 pkg/instance/start.go watchHostAgentEvents.
		if p := ev.Status.CloudInitProgress; progress && p != nil {
			if p.Active && p.LogLine == "" {
				infof("Cloud-init provisioning started...")
			}
			if p.LogLine != "" {
				infof("[cloud-init] %s", p.LogLine)
			}
			if p.Completed {
				cloudInit = true
				infof("Cloud-init progress monitoring done.")
			}
		}
		if len(ev.Status.Errors) > 0 {
			errorf("%+v", ev.Status.Errors)
			if leaveBroken {
				// Deviation: the real limactl would keep waiting until
				// --timeout; the fake gives up at once.
				evErr = errNoEvent("running")
				return true
			}
		}
		if ev.Status.Exiting {
			evErr = fmt.Errorf("exiting, status=%+v (hint: see %s)", ev.Status, q(stderrPath))
			return true
		}
		if ev.Status.Running {
			running = true
			if ev.Status.Degraded {
				warnf("DEGRADED. The VM seems running, but file sharing and port forwarding may not work. (hint: see %s)", q(stderrPath))
				evErr = fmt.Errorf("degraded, status=%+v", ev.Status)
				return true
			}
			if progress && !cloudInit {
				return false
			}
			infof("READY. Run `%s` to open the shell.", shellCmdFor(inst.Name))
			return true
		}
		return false
	}

	waitCh := make(chan error, 1)
	go func() { waitCh <- cmd.Wait() }()
	w := newEventWatcher(stdoutPath, stderrPath, begin, false)
	defer w.close()
	exited := false
	for {
		stop, err := w.poll(onEvent)
		if err != nil {
			return err
		}
		if stop {
			break
		}
		if exited {
			return errors.New("host agent process has exited: " + describeExit(<-waitCh))
		}
		select {
		case <-ctx.Done():
			if running {
				// A running event came, but with --progress no
				// "completed" (a plain guest's host agent never sends
				// one): the watch ends at the timeout without an error
				// and without READY (Lima v2.2.0
				// pkg/hostagent/events/watcher.go:52-53,88,
				// pkg/instance/start.go:408-410,434-438).
				return nil
			}
			return errNoEvent("running")
		case werr := <-waitCh:
			// Drain the remaining events once more before reporting.
			exited = true
			waitCh <- werr
		case <-time.After(50 * time.Millisecond):
		}
	}
	if evErr != nil {
		return evErr
	}
	if !running {
		return errNoEvent("running")
	}
	return nil
}

func describeExit(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// waitHostAgentStart waits up to 5 s for ha.pid, like Lima. A hostagent
// that already emitted events (and may have removed ha.pid again, e.g. with
// FAKELIMA_START_FAIL) also counts as started.
func waitHostAgentStart(haPID, stdoutPath, stderrPath string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(haPID); !errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if st, err := os.Stat(stdoutPath); err == nil && st.Size() > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hostagent (%s) did not start up in %v (hint: see %s)", q(haPID), 5*time.Second, q(stderrPath))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
