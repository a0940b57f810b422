// Package broker brings a project's VM up through limactl and attaches the
// terminal to the project's Zellij session in it: the nesting guard, the
// per-VM lock, boot progress, and reconnection when the link drops.
package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
	"gopkg.in/yaml.v3"
)

// Broker holds what the lifecycle and attach operations need.
type Broker struct {
	Lima     *lima.Client
	LimaHome string
	State    state.Dir
	Progress *Progress
	Log      *slog.Logger
	Host     limaconfig.Host
	// StartTimeout bounds one `limactl start`; sysvm kills it a little after.
	StartTimeout time.Duration
	// Socket is the broker process's socket; empty dials every VM directly.
	Socket string
	// Self is the sysvm executable, to start the broker process with.
	Self string

	fallbackOnce sync.Once
}

// Hinted is an error with commands the user can run to fix it.
type Hinted struct {
	Err   error
	Hints []string
}

func (e *Hinted) Error() string { return e.Err.Error() }
func (e *Hinted) Unwrap() error { return e.Err }

func hint(err error, hints ...string) error { return &Hinted{Err: err, Hints: hints} }

// ErrInterrupted means the user pressed Ctrl-C while sysvm waited.
var ErrInterrupted = errors.New("interrupted")

// ConfigError is a .lima/config.yaml that is not valid YAML.
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s is not valid YAML: %v", e.Path, e.Err)
}

// EnsureConfig writes the project's Lima config when it is missing and
// checks it otherwise. It never overwrites the user's file. It reports
// whether the file on disk differs from what sysvm would generate now.
func (b *Broker) EnsureConfig(p *project.Project, s limaconfig.Settings) (path string, edited bool, err error) {
	gen, err := limaconfig.Generate(p, s, b.Host)
	if err != nil {
		return "", false, err
	}
	path = p.LimaConfig()
	cur, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", false, fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
		}
		if err := writeNew(path, gen); err != nil {
			return "", false, fmt.Errorf("writing %s: %w", path, err)
		}
		return path, false, nil
	case err != nil:
		return "", false, fmt.Errorf("reading %s: %w", path, err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(cur, &n); err != nil {
		return "", false, hint(&ConfigError{Path: path, Err: err},
			"fix the file, or move it away and run `sysvm up` to generate a new one")
	}
	return path, !bytes.Equal(cur, gen), nil
}

// writeNew creates path with data unless it already exists (another sysvm
// may have just written it: theirs wins, nothing is overwritten).
func writeNew(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config.yaml.tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}

// Up brings the project's VM to Running: it creates the VM from the
// project's config when it is missing, starts it when stopped, and does
// nothing when it runs. Concurrent calls for one VM are serialised.
func (b *Broker) Up(ctx context.Context, p *project.Project, s limaconfig.Settings) (*lima.Instance, error) {
	return b.ensure(ctx, p, s, true)
}

// ErrGone means the VM was deleted while sysvm was attached to it.
var ErrGone = errors.New("VM was deleted")

// ensure is Up; with create false a missing VM is an error, not a new VM.
func (b *Broker) ensure(ctx context.Context, p *project.Project, s limaconfig.Settings, create bool) (*lima.Instance, error) {
	cfg, _, err := b.EnsureConfig(p, s)
	if err != nil {
		return nil, err
	}
	ports, err := configPorts(cfg)
	if err != nil {
		return nil, err
	}
	lock, err := b.State.LockVM(p.VM)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()

	inst, err := b.Lima.Inspect(ctx, p.VM)
	var nf *lima.NotFoundError
	switch {
	case errors.As(err, &nf):
		inst = nil
	case err != nil:
		return nil, b.limaError(err)
	}
	if inst != nil && inst.Status == lima.StatusBroken {
		if inst, err = b.waitNotBroken(ctx, p.VM); err != nil {
			return nil, err
		}
	}
	if inst == nil || inst.Status != lima.StatusRunning {
		if err := b.checkPorts(ctx, p, ports); err != nil {
			return nil, err
		}
	}
	if err := b.State.Save(state.Record{Name: p.Slug, Dir: p.Dir, VM: p.VM, Session: p.Session(), Ports: ports, Updated: time.Now()}); err != nil {
		return nil, err
	}

	switch {
	case inst == nil && !create:
		return nil, hint(fmt.Errorf("%w: %s no longer exists (was it destroyed?)", ErrGone, p.VM), "sysvm attach  (creates it again)")
	case inst == nil:
		// A new VM has a new host key: forget the pinned one.
		if err := b.State.UnpinHostKey(p.VM); err != nil {
			return nil, err
		}
		err = b.start(ctx, p.VM, cfg, "creating")
	case inst.Status == lima.StatusStopped:
		// Lima's guest makes new SSH host keys at every boot (cloud-init
		// sees a new instance-id), so a start by sysvm re-pins, as a create
		// does; a key that changes while the VM runs is still refused.
		if err := b.State.UnpinHostKey(p.VM); err != nil {
			return nil, err
		}
		err = b.start(ctx, p.VM, "", "starting")
	case inst.Status == lima.StatusRunning:
		err = b.waitReady(ctx, inst)
	default:
		err = hint(fmt.Errorf("VM %s is in state %q", p.VM, inst.Status),
			fmt.Sprintf("limactl stop -f %s && sysvm up", p.VM))
	}
	if err != nil {
		return nil, err
	}
	if inst, err = b.Lima.Inspect(ctx, p.VM); err != nil {
		return nil, b.limaError(err)
	}
	if inst.Status != lima.StatusRunning {
		return nil, hint(fmt.Errorf("VM %s is %s after start", p.VM, inst.Status),
			fmt.Sprintf("limactl list %s", p.VM), fmt.Sprintf("see %s", filepath.Join(inst.Dir, "ha.stderr.log")))
	}
	return inst, nil
}

// start runs limactl start and shows its progress. Ctrl-C stops the wait,
// not the VM: limactl runs in its own process group and keeps booting.
func (b *Broker) start(ctx context.Context, vm, cfg, phase string) error {
	logs, err := b.State.MkdirAll("logs")
	if err != nil {
		return err
	}
	startLog := filepath.Join(logs, vm+".start.log")
	timeout := b.StartTimeout
	if timeout <= 0 {
		timeout = 20 * time.Minute
	}
	// limactl is asked to give up at timeout; sysvm kills it if it does not.
	runCtx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()

	began := time.Now()
	stop := make(chan struct{})
	wg := b.Progress.watch(vm, phase, []string{filepath.Join(b.LimaHome, vm, "ha.stderr.log"), startLog}, stop)
	done := make(chan error, 1)
	go func() {
		done <- b.Lima.Start(runCtx, vm, lima.StartOptions{ConfigFile: cfg, Timeout: timeout.String(), LogFile: startLog})
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		close(stop)
		wg.Wait()
		return hint(fmt.Errorf("%w: stopped waiting for %s, which keeps booting in the background", ErrInterrupted, vm),
			"sysvm status", "sysvm attach")
	}
	close(stop)
	wg.Wait()
	var ce *lima.CommandError
	if errors.As(err, &ce) && strings.HasPrefix(ce.Reason(), "degraded") {
		// Lima started the VM but a non-essential part (the guest agent,
		// a probe) is not up: the VM runs and SSH works. Say so, go on.
		b.Progress.Say("warning: %s started degraded: %s", vm, ce.Reason())
		err = nil
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return hint(fmt.Errorf("VM %s did not become ready within %s", vm, timeout),
				"see "+filepath.Join(b.LimaHome, vm, "ha.stderr.log"), "raise the limit with SYSVM_START_TIMEOUT=30m")
		}
		return b.limaError(err)
	}
	b.Progress.Say("%s is running (%s)", vm, time.Since(began).Round(time.Second))
	return nil
}

// waitNotBroken tolerates the Broken status Lima shows for a moment while a
// start is under way, then gives up with the command that recovers.
func (b *Broker) waitNotBroken(ctx context.Context, vm string) (*lima.Instance, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		inst, err := b.Lima.Inspect(ctx, vm)
		if err != nil {
			return nil, b.limaError(err)
		}
		if inst.Status != lima.StatusBroken {
			return inst, nil
		}
		if time.Now().After(deadline) {
			return nil, hint(fmt.Errorf("VM %s is Broken (its host agent or QEMU died)", vm),
				fmt.Sprintf("limactl stop -f %s && sysvm up", vm))
		}
		select {
		case <-ctx.Done():
			return nil, ErrInterrupted
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitReady waits for a VM that runs but whose boot another process started
// (for example `sysvm up --background`) to report READY in ha.stdout.log.
func (b *Broker) waitReady(ctx context.Context, inst *lima.Instance) error {
	events := filepath.Join(inst.Dir, "ha.stdout.log")
	if bootDone(events) {
		return nil
	}
	stop := make(chan struct{})
	wg := b.Progress.watch(inst.Name, "booting", []string{filepath.Join(inst.Dir, "ha.stderr.log")}, stop)
	defer func() { close(stop); wg.Wait() }()
	deadline := time.Now().Add(b.StartTimeout)
	for !bootDone(events) {
		if time.Now().After(deadline) {
			return hint(fmt.Errorf("VM %s did not become ready within %s", inst.Name, b.StartTimeout),
				"see "+filepath.Join(inst.Dir, "ha.stderr.log"))
		}
		select {
		case <-ctx.Done():
			return hint(fmt.Errorf("%w: stopped waiting for %s, which keeps booting in the background", ErrInterrupted, inst.Name), "sysvm status")
		case <-time.After(300 * time.Millisecond):
		}
	}
	return nil
}

// bootDone reads the hostagent's JSON event log: done once an event says
// running (or exiting), or when there is no log to read.
func bootDone(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var ev struct {
			Status struct {
				Running bool `json:"running"`
				Exiting bool `json:"exiting"`
			} `json:"status"`
		}
		if json.Unmarshal(line, &ev) == nil && (ev.Status.Running || ev.Status.Exiting) {
			return true
		}
	}
	return len(bytes.TrimSpace(b)) == 0
}

// limaError adds hints to limactl failures.
func (b *Broker) limaError(err error) error {
	if errors.Is(err, lima.ErrNotInstalled) {
		return hint(err, "install Lima: https://lima-vm.io/docs/installation/ (macOS: `brew install lima`)",
			"or point LIMACTL at the limactl binary")
	}
	return err
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
		return nil, hint(&ConfigError{Path: path, Err: err}, "fix the file, or move it away and run `sysvm up` to generate a new one")
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
func (b *Broker) checkPorts(ctx context.Context, p *project.Project, ports []int) error {
	if len(ports) == 0 {
		return nil
	}
	recs, err := b.State.Records()
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
		inst, err := b.Lima.Inspect(ctx, r.VM)
		if err != nil || inst.Status != lima.StatusRunning {
			continue
		}
		return hint(fmt.Errorf("port %s is already forwarded by the running VM %s (project %s in %s)",
			strings.Join(clash, ", "), r.VM, r.Name, r.Dir),
			fmt.Sprintf("sysvm stop %s", r.Name), "or change `ports:` in sysvm.yaml (or VM_PORTS)")
	}
	for _, port := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			b.Progress.Say("warning: host port %d is already in use; the VM's forward of it will not work", port)
			continue
		}
		l.Close()
	}
	return nil
}

// ErrUnreachable means the VM could not be reached over SSH.
var ErrUnreachable = errors.New("VM unreachable over SSH")

// Stop stops the project's VM and says what it did.
func (b *Broker) Stop(ctx context.Context, p *project.Project) (string, error) {
	lock, err := b.State.LockVM(p.VM)
	if err != nil {
		return "", err
	}
	defer lock.Unlock()
	inst, err := b.Lima.Inspect(ctx, p.VM)
	var nf *lima.NotFoundError
	switch {
	case errors.As(err, &nf):
		return "does not exist; nothing to stop", nil
	case err != nil:
		return "", b.limaError(err)
	case inst.Status == lima.StatusStopped:
		return "is already stopped", nil
	case inst.Status != lima.StatusRunning:
		return "", hint(fmt.Errorf("VM %s is %s and cannot be stopped cleanly", p.VM, inst.Status),
			fmt.Sprintf("limactl stop -f %s", p.VM))
	}
	if err := b.Lima.Stop(ctx, p.VM, false); err != nil {
		return "", hint(err, fmt.Sprintf("limactl stop -f %s  (forces it off)", p.VM))
	}
	return "stopped", nil
}

// Destroy deletes the project's VM; the project directory is not touched.
func (b *Broker) Destroy(ctx context.Context, p *project.Project) (existed bool, err error) {
	lock, err := b.State.LockVM(p.VM)
	if err != nil {
		return false, err
	}
	defer lock.Unlock()
	_, err = b.Lima.Inspect(ctx, p.VM)
	var nf *lima.NotFoundError
	if errors.As(err, &nf) {
		return false, b.State.UnpinHostKey(p.VM)
	} else if err != nil {
		return false, b.limaError(err)
	}
	if err := b.Lima.Delete(ctx, p.VM, true); err != nil {
		return true, err
	}
	if err := b.State.UnpinHostKey(p.VM); err != nil {
		return true, err
	}
	return true, nil
}
