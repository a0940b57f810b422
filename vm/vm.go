// Package vm owns a project's VM through its life, by way of limactl: the
// Lima config sysvm generates for it (and when to regenerate it), create,
// start, stop and destroy under a per-VM lock, host ports, readiness, boot
// progress, the settings the VM was created with, and the project list.
//
// It never opens an SSH connection and never talks to Zellij: reaching the
// VM is the session package's job. It never prints except through
// [Progress] and into the writer [WriteList] is given, and never exits.
package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sysvm/sysvm/detach"
	"github.com/sysvm/sysvm/display"
	"github.com/sysvm/sysvm/files"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
	"gopkg.in/yaml.v3"
)

// DefaultStartTimeout bounds one `limactl start` when none is set.
const DefaultStartTimeout = 20 * time.Minute

// Manager brings projects' VMs up and down.
type Manager struct {
	Lima     *lima.Client
	LimaHome string
	State    state.Dir
	Progress *Progress
	Log      *slog.Logger
	Host     limaconfig.Host
	// StartTimeout bounds one `limactl start` (0: DefaultStartTimeout);
	// sysvm kills limactl a little after.
	StartTimeout time.Duration
	// Keep marks the VM's run as one idle stop must leave alone
	// (`sysvm up --keep`); it holds until the VM next stops.
	Keep bool
}

// ConfigError is a .lima/config.yaml that is not valid YAML.
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s is not valid YAML: %v", e.Path, e.Err)
}

func configError(path string, err error) error {
	return hint.Wrap(&ConfigError{Path: path, Err: err},
		"fix the file, or move it away and run `sysvm up` to generate a new one")
}

func (m *Manager) startTimeout() time.Duration {
	if m.StartTimeout > 0 {
		return m.StartTimeout
	}
	return DefaultStartTimeout
}

// Config is the state of a project's .lima/config.yaml.
type Config struct {
	Path string
	// Exists is false until `sysvm up` writes it.
	Exists bool
	// Edited means the user changed the file: sysvm uses it as it is and
	// never regenerates it.
	Edited bool
	// Differs means the file is not what `sysvm config` generates now.
	Differs bool
}

// EnsureConfig writes the project's Lima config when it is missing, and
// regenerates it when it is sysvm's own unedited file and the settings
// changed. A file the user edited is never overwritten.
func (m *Manager) EnsureConfig(p *project.Project, s limaconfig.Settings) (Config, error) {
	gen, err := limaconfig.Generate(p, s, m.Host)
	if err != nil {
		return Config{}, err
	}
	c := Config{Path: p.LimaConfig()}
	cur, err := os.ReadFile(c.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(c.Path), 0o755); err != nil {
			return c, fmt.Errorf("creating %s: %w", filepath.Dir(c.Path), err)
		}
		// Another sysvm may have just written it: theirs wins.
		if _, err := files.CreateNew(c.Path, gen, 0o644); err != nil {
			return c, fmt.Errorf("writing %s: %w", c.Path, err)
		}
		c.Exists = true
		return c, nil
	case err != nil:
		return c, fmt.Errorf("reading %s: %w", c.Path, err)
	}
	c.Exists = true
	var n yaml.Node
	if err := yaml.Unmarshal(cur, &n); err != nil {
		return c, configError(c.Path, err)
	}
	if bytes.Equal(cur, gen) {
		return c, nil
	}
	if !limaconfig.Unedited(cur) {
		c.Edited, c.Differs = true, true
		return c, nil
	}
	if err := files.Replace(c.Path, gen, 0o644); err != nil {
		return c, fmt.Errorf("regenerating %s: %w", c.Path, err)
	}
	m.Progress.Say("settings changed: regenerated %s", c.Path)
	return c, nil
}

// ConfigState inspects the project's config without writing anything.
func (m *Manager) ConfigState(p *project.Project, s limaconfig.Settings) Config {
	c := Config{Path: p.LimaConfig()}
	cur, err := os.ReadFile(c.Path)
	if err != nil {
		return c
	}
	c.Exists = true
	c.Edited = !limaconfig.Unedited(cur)
	if gen, err := limaconfig.Generate(p, s, m.Host); err == nil {
		c.Differs = !bytes.Equal(gen, cur)
	}
	return c
}

// Up brings the project's VM to Running: it creates the VM from the
// project's config when it is missing, starts it when stopped, and does
// nothing when it runs. Concurrent calls for one VM are serialised.
func (m *Manager) Up(ctx context.Context, p *project.Project, s limaconfig.Settings) (*lima.Instance, error) {
	return m.Ensure(ctx, p, s, true)
}

// Ensure is Up; with create false a missing VM is an error, not a new VM
// (a reconnect must not bring back a VM the user destroyed).
func (m *Manager) Ensure(ctx context.Context, p *project.Project, s limaconfig.Settings, create bool) (*lima.Instance, error) {
	ph := newPhases()
	cfg, err := m.EnsureConfig(p, s)
	if err != nil {
		return nil, err
	}
	if cfg.Edited {
		m.Progress.Say("using your edited %s (it differs from `sysvm config`)", cfg.Path)
	}
	ports, err := configPorts(cfg.Path)
	if err != nil {
		return nil, err
	}
	ph.mark("config")
	lock, err := m.State.LockVM(p.VM)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	ph.mark("lock")

	if err := m.waitEarlierStart(ctx, p.VM); err != nil {
		return nil, err
	}
	inst, err := m.Inspect(ctx, p.VM)
	if err != nil {
		return nil, err
	}
	if inst, err = m.recoverCrash(ctx, inst); err != nil {
		return nil, err
	}
	if inst != nil && inst.Status == lima.StatusBroken {
		if inst, err = m.waitNotBroken(ctx, p.VM); err != nil {
			return nil, err
		}
	}
	ph.mark("inspect")
	if inst == nil || inst.Status != lima.StatusRunning {
		if err := m.checkPorts(ctx, p, ports); err != nil {
			return nil, err
		}
	}
	if err := m.saveRecord(p, ports, s); err != nil {
		return nil, err
	}
	if inst != nil {
		m.sayChanged(p)
	}

	ph.mark("ports-and-record")
	started := inst == nil || inst.Status == lima.StatusStopped
	kind := "start"
	switch {
	case inst == nil && !create:
		return nil, hint.Wrap(fmt.Errorf("%w: %s no longer exists (was it destroyed?)", hint.ErrGone, p.VM), "sysvm attach  (creates it again)")
	case inst == nil:
		// A new VM has a new host key: forget the pinned one.
		if err := m.State.UnpinHostKey(p.VM); err != nil {
			return nil, err
		}
		ph.mark("unpin-host-key")
		kind = "create"
		if err = m.start(ctx, p.VM, cfg.Path, "creating", ph); err == nil {
			m.awaitHostKeys(ctx, p.VM, firstConsoleWait)
			ph.mark("host-keys")
			err = m.rememberCreated(p.VM, cfg.Path)
			ph.mark("remember-created")
		}
	case inst.Status == lima.StatusStopped:
		// Lima's guest makes new SSH host keys at every boot (cloud-init
		// sees a new instance-id): the new key must be the one its console
		// prints, or, for a guest that prints none, a start by sysvm
		// re-pins, as a create does. A key that changes while the VM runs
		// is refused either way.
		var printed bool
		if printed, err = m.beforeStart(p.VM); err != nil {
			return nil, err
		}
		ph.mark("before-start")
		if err = m.start(ctx, p.VM, "", "starting", ph); err == nil && printed {
			m.awaitHostKeys(ctx, p.VM, consoleWait)
			ph.mark("host-keys")
		}
	case inst.Status == lima.StatusRunning:
		err = m.waitReady(ctx, inst)
	default:
		err = hint.Wrap(fmt.Errorf("VM %s is in state %q", p.VM, inst.Status), forceStopHint(inst, p.VM))
	}
	if err != nil {
		return nil, err
	}
	if inst, err = m.Inspect(ctx, p.VM); err != nil {
		return nil, err
	}
	if inst == nil || inst.Status != lima.StatusRunning {
		status, dir := "gone", filepath.Join(m.LimaHome, p.VM)
		if inst != nil {
			status, dir = inst.Status, inst.Dir
		}
		return nil, hint.Wrap(fmt.Errorf("VM %s is %s after start", p.VM, status),
			fmt.Sprintf("limactl list %s", p.VM), fmt.Sprintf("see %s", filepath.Join(dir, "ha.stderr.log")))
	}
	ph.mark("inspect-after")
	if started {
		if err := m.markStarted(inst); err != nil {
			return nil, err
		}
		ph.mark("mark-started")
		// Timings are a diagnostic: failing to keep them fails no start.
		_ = m.State.SaveStartTimings(p.VM, ph.done(kind))
	}
	return inst, nil
}

// Inspect returns the VM's instance, or nil when it does not exist.
func (m *Manager) Inspect(ctx context.Context, vm string) (*lima.Instance, error) {
	inst, err := m.Lima.Inspect(ctx, vm)
	var nf *lima.NotFoundError
	if errors.As(err, &nf) {
		return nil, nil
	}
	return inst, err
}

// halfDeleted explains an instance directory without lima.yaml (left by an
// interrupted create or delete). No limactl command repairs it: `limactl
// delete` treats it as not existing in 1.x and 2.2.
func halfDeleted(inst *lima.Instance) error {
	for _, pr := range inst.Problems {
		if strings.Contains(pr, "lima.yaml") {
			return hint.Wrap(fmt.Errorf("VM %s is Broken: its instance directory %s has no lima.yaml (an interrupted create or delete?)", inst.Name, inst.Dir),
				fmt.Sprintf("move it away, then create the VM again: mv %s %s.broken && sysvm up", inst.Dir, inst.Dir))
		}
	}
	return nil
}

// start runs limactl start and shows its progress. Ctrl-C stops the wait,
// not the VM: limactl runs in its own process group and keeps booting.
// ph, when not nil, times the version check, the preparation and the
// wait on limactl start.
func (m *Manager) start(ctx context.Context, vm, cfg, phase string, ph *phases) error {
	if _, err := m.Lima.CheckVersion(ctx); err != nil {
		return err
	}
	ph.mark("limactl-version")
	startLog, err := m.startLog(vm)
	if err != nil {
		return err
	}
	timeout := m.startTimeout()
	// limactl is asked to give up at timeout; sysvm kills it if it does not
	// while it waits. An interrupted wait leaves limactl alone for good: a
	// create signalled half-way leaves no VM behind.
	runCtx, cancel := context.WithCancel(context.Background())
	kill := time.AfterFunc(timeout+5*time.Second, cancel)
	interrupted := false
	defer func() {
		if !interrupted {
			kill.Stop()
			cancel()
		}
	}()

	began := time.Now()
	stop := m.Progress.watch(vm, phase, []string{filepath.Join(m.LimaHome, vm, "ha.stderr.log"), startLog})
	done := make(chan error, 1)
	go func() {
		done <- m.Lima.Start(runCtx, vm, lima.StartOptions{ConfigFile: cfg, Timeout: timeout.String(), LogFile: startLog, Progress: true})
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		interrupted = true
		kill.Stop()
		stop()
		return hint.Wrap(fmt.Errorf("%w: stopped waiting for %s, which keeps booting in the background", hint.ErrInterrupted, vm),
			"sysvm status", "sysvm attach")
	}
	stop()
	ph.mark(phaseLimactlStart)
	var ce *lima.CommandError
	if errors.As(err, &ce) && startedDegraded(filepath.Join(m.LimaHome, vm, "ha.stdout.log")) {
		// Lima started the VM but a non-essential part (the guest agent,
		// a probe) is not up: the VM runs and SSH works. Say so, go on.
		m.Progress.Say("warning: %s started degraded: %s", vm, ce.Reason())
		err = nil
	}
	if err != nil {
		if runCtx.Err() != nil { // the kill timer fired
			return hint.Wrap(fmt.Errorf("VM %s did not become ready within %s", vm, timeout),
				"see "+filepath.Join(m.LimaHome, vm, "ha.stderr.log"), "raise the limit with SYSVM_START_TIMEOUT=30m")
		}
		return err
	}
	m.Progress.Say("%s is running (%s)", vm, time.Since(began).Round(time.Second))
	return nil
}

// startLog is where limactl start's output for vm goes.
func (m *Manager) startLog(vm string) (string, error) {
	logs, err := m.State.MkdirAll("logs")
	if err != nil {
		return "", err
	}
	return filepath.Join(logs, vm+".start.log"), nil
}

// waitEarlierStart waits, with progress, while a `limactl start` of vm that
// an earlier sysvm began is still running (that sysvm was interrupted; its
// limactl keeps booting or creating the VM): starting it a second time
// meanwhile would fail or race.
func (m *Manager) waitEarlierStart(ctx context.Context, vm string) error {
	path, err := m.startLog(vm)
	if err != nil || !lima.StartRunning(path) {
		return err
	}
	stop := m.Progress.watch(vm, "waiting for an earlier start of", []string{filepath.Join(m.LimaHome, vm, "ha.stderr.log"), path})
	defer stop()
	for lima.StartRunning(path) {
		select {
		case <-ctx.Done():
			return hint.Wrap(fmt.Errorf("%w: stopped waiting for %s, which keeps starting in the background", hint.ErrInterrupted, vm), "sysvm status")
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// waitNotBroken tolerates the Broken status Lima shows for a moment while a
// start is under way, then gives up with the command that recovers.
func (m *Manager) waitNotBroken(ctx context.Context, vm string) (*lima.Instance, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		inst, err := m.Inspect(ctx, vm)
		if err != nil || inst == nil || inst.Status != lima.StatusBroken {
			return inst, err
		}
		if time.Now().After(deadline) {
			if err := halfDeleted(inst); err != nil {
				return nil, err
			}
			return nil, hint.Wrap(fmt.Errorf("VM %s is Broken (its host agent or QEMU died)", vm), forceStopHint(inst, vm))
		}
		select {
		case <-ctx.Done():
			return nil, hint.ErrInterrupted
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitReady waits for a VM that runs but whose boot another process started
// (for example `sysvm up --background`) to report READY in ha.stdout.log.
func (m *Manager) waitReady(ctx context.Context, inst *lima.Instance) error {
	events := filepath.Join(inst.Dir, "ha.stdout.log")
	if bootDone(events) {
		return nil
	}
	stop := m.Progress.watch(inst.Name, "booting", []string{filepath.Join(inst.Dir, "ha.stderr.log")})
	defer stop()
	timeout := m.startTimeout()
	deadline := time.Now().Add(timeout)
	for !bootDone(events) {
		if time.Now().After(deadline) {
			return hint.Wrap(fmt.Errorf("VM %s did not become ready within %s", inst.Name, timeout),
				"see "+filepath.Join(inst.Dir, "ha.stderr.log"))
		}
		select {
		case <-ctx.Done():
			return hint.Wrap(fmt.Errorf("%w: stopped waiting for %s, which keeps booting in the background", hint.ErrInterrupted, inst.Name), "sysvm status")
		case <-time.After(300 * time.Millisecond):
		}
	}
	return nil
}

// haEvent is the part of a host agent event (ha.stdout.log, one JSON
// object per line) sysvm reads.
type haEvent struct {
	Status struct {
		Running  bool `json:"running"`
		Degraded bool `json:"degraded"`
		Exiting  bool `json:"exiting"`
	} `json:"status"`
}

// startedDegraded reports whether the host agent's last event says the VM
// runs degraded: the structured answer behind `limactl start`'s exit 1
// with "degraded, status=…", whose wording sysvm does not rely on.
func startedDegraded(events string) bool {
	b, err := os.ReadFile(events)
	if err != nil {
		return false
	}
	var last haEvent
	for _, line := range bytes.Split(b, []byte("\n")) {
		var ev haEvent
		if json.Unmarshal(line, &ev) == nil {
			last = ev
		}
	}
	return last.Status.Running && last.Status.Degraded && !last.Status.Exiting
}

// bootDone reads the hostagent's JSON event log: done once an event says
// running (or exiting), or when there is no log to read.
func bootDone(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var ev haEvent
		if json.Unmarshal(line, &ev) == nil && (ev.Status.Running || ev.Status.Exiting) {
			return true
		}
	}
	return len(bytes.TrimSpace(b)) == 0
}

// configPorts lists the host ports a Lima config forwards explicitly.
func configPorts(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c struct {
		PortForwards []struct {
			GuestPort int  `yaml:"guestPort"`
			HostPort  int  `yaml:"hostPort"`
			Ignore    bool `yaml:"ignore"`
		} `yaml:"portForwards"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, configError(path, err)
	}
	var out []int
	for _, f := range c.PortForwards {
		if f.Ignore {
			continue
		}
		if p := f.HostPort; p > 0 {
			out = append(out, p)
		} else if f.GuestPort > 0 {
			out = append(out, f.GuestPort)
		}
	}
	return out, nil
}

// checkPorts refuses to boot when another sysvm project's running VM already
// forwards one of our host ports (Lima would let the first VM win silently),
// and warns when some other program listens there.
func (m *Manager) checkPorts(ctx context.Context, p *project.Project, ports []int) error {
	if len(ports) == 0 {
		return nil
	}
	recs, err := m.State.Records()
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.VM == p.VM {
			continue
		}
		var clash []string
		for _, a := range r.Ports {
			for _, mine := range ports {
				if a == mine {
					clash = append(clash, fmt.Sprint(a))
				}
			}
		}
		if len(clash) == 0 {
			continue
		}
		inst, err := m.Inspect(ctx, r.VM)
		if err != nil || inst == nil || inst.Status != lima.StatusRunning {
			continue
		}
		return hint.Wrap(fmt.Errorf("port %s is already forwarded by the running VM %s (project %s in %s)",
			strings.Join(clash, ", "), r.VM, r.Name, r.Dir),
			fmt.Sprintf("sysvm stop %s", r.Name), "or change `ports:` in sysvm.yaml (or VM_PORTS)")
	}
	for _, port := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			m.Progress.Say("warning: host port %d is already in use; the VM's forward of it will not work", port)
			continue
		}
		l.Close()
	}
	return nil
}

// Stop stops the project's VM and says what it did.
func (m *Manager) Stop(ctx context.Context, p *project.Project) (string, error) {
	lock, err := m.State.LockVM(p.VM)
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	inst, err := m.Inspect(ctx, p.VM)
	switch {
	case err != nil:
		return "", err
	case inst == nil:
		return "does not exist; nothing to stop", nil
	case inst.Status == lima.StatusStopped:
		return "is already stopped", nil
	case inst.Status != lima.StatusRunning:
		return "", hint.Wrap(fmt.Errorf("VM %s is %s and cannot be stopped cleanly", p.VM, inst.Status), forceStopHint(inst, p.VM))
	}
	if err := m.Lima.Stop(ctx, p.VM, false); err != nil {
		return "", hint.Wrap(err, fmt.Sprintf("limactl stop -f %s  (forces it off)", p.VM))
	}
	return "stopped", nil
}

// Destroy deletes the project's VM; the project directory is not touched.
// With forget, sysvm also drops the project from its list.
func (m *Manager) Destroy(ctx context.Context, p *project.Project, forget bool) (existed bool, err error) {
	lock, err := m.State.LockVM(p.VM)
	if err != nil {
		return false, err
	}
	defer lock.Unlock()
	inst, err := m.Inspect(ctx, p.VM)
	if err != nil {
		return false, err
	}
	if inst != nil {
		if err := m.Lima.Delete(ctx, p.VM, true); err != nil {
			return true, err
		}
	}
	if err := m.State.UnpinHostKey(p.VM); err != nil {
		return inst != nil, err
	}
	if err := m.State.ForgetCreated(p.VM); err != nil {
		return inst != nil, err
	}
	if err := m.State.ForgetStartTimings(p.VM); err != nil {
		return inst != nil, err
	}
	if forget {
		if err := m.State.Forget(p.VM); err != nil {
			return inst != nil, err
		}
	}
	return inst != nil, nil
}

// UpBackground runs argv (a `sysvm up` of the project) in a new session
// with every descriptor closed and its output in a log, so a prompt
// (direnv) never waits for it. It returns the log's path.
func (m *Manager) UpBackground(p *project.Project, s limaconfig.Settings, argv []string) (string, error) {
	if _, err := m.EnsureConfig(p, s); err != nil {
		return "", err
	}
	logs, err := m.State.MkdirAll("logs")
	if err != nil {
		return "", err
	}
	logPath := filepath.Join(logs, p.VM+".up.log")
	proc, err := detach.Start(argv, p.Dir, logPath, true)
	if err != nil {
		return "", err
	}
	_ = proc.Release()
	return logPath, nil
}

// LimaVersion is the version of the limactl sysvm runs ("" when it cannot
// tell). It is cached per binary, so asking costs a stat.
func (m *Manager) LimaVersion(ctx context.Context) string {
	v, err := m.Lima.Version(ctx)
	if err != nil {
		return ""
	}
	return v.String()
}

// StateNotCreated is the state of a VM that does not exist yet.
const StateNotCreated = "NotCreated"

// ListEntry is one project sysvm knows, with its VM's state.
type ListEntry struct {
	Project string `json:"project"`
	VM      string `json:"vm"`
	State   string `json:"state"`
	Dir     string `json:"dir"`
}

// List returns every project sysvm knows on this host, sorted by name.
func (m *Manager) List(ctx context.Context) ([]ListEntry, error) {
	recs, err := m.State.Records()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return []ListEntry{}, nil
	}
	names := make([]string, len(recs))
	for i, r := range recs {
		names[i] = r.VM
	}
	insts, err := m.Lima.List(ctx, names...)
	if err != nil {
		return nil, err
	}
	states := map[string]string{}
	for _, in := range insts {
		states[in.Name] = in.Status
	}
	entries := []ListEntry{}
	for _, r := range recs {
		s, ok := states[r.VM]
		if !ok {
			s = StateNotCreated
		}
		entries = append(entries, ListEntry{Project: r.Name, VM: r.VM, State: s, Dir: r.Dir})
	}
	return entries, nil
}

// WriteList writes the entries as `sysvm list` shows them: a table under
// a header line.
func WriteList(w io.Writer, entries []ListEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECT\tVM\tSTATE\tDIR")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Project, e.VM, e.State, display.Safe(e.Dir))
	}
	return tw.Flush()
}
