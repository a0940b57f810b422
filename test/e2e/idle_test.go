package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Idle stop in the lab: a 3s period sampled every second. The broker's own
// idle exit (2s) is shorter than the period, so a VM is only ever stopped
// if the broker stays up for it.
const (
	idlePeriod = 3 * time.Second
	idleCheck  = time.Second
	// stopSlack is what the graceful stop itself may take on a loaded
	// machine, beyond the period and one check interval.
	stopSlack = 5 * time.Second
	// hold is how long a VM idle stop must leave alone is watched.
	hold = 4 * idlePeriod
)

// idleProject is a project with idle stop on and a layout whose first pane
// is a shell.
func (e *env) idleProject(name string) string {
	e.t.Helper()
	dir := e.layoutProject(name)
	if err := os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte("idle: 3s\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.allow(dir)
	return dir
}

func newIdleEnv(t *testing.T) *env {
	t.Parallel()
	e := newEnv(t)
	e.Setenv("SYSVM_IDLE_CHECK="+idleCheck.String(), "SYSVM_BROKER_IDLE=2s")
	return e
}

// limaState is the VM's status as Lima reports it: asking limactl, not
// sysvm, so the watching itself never counts as a client.
func (e *env) limaState(vm string) string {
	r := e.Limactl("list", "--json", vm)
	var inst struct {
		Status string `json:"status"`
	}
	if json.Unmarshal([]byte(r.Stdout), &inst) != nil {
		return ""
	}
	return inst.Status
}

// stays checks that vm keeps running for d.
func (e *env) stays(t *testing.T, vm string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(300 * time.Millisecond) {
		if s := e.limaState(vm); s != "Running" {
			t.Fatalf("%s is %s: idle stop stopped a VM it must leave alone; broker log:\n%s", vm, s, e.brokerLog())
		}
	}
}

// idleStopped waits for idle stop to stop vm, and checks it did so no
// sooner than the period after from and within a period, a check interval
// (plus extra) and the stop's own time.
func (e *env) idleStopped(t *testing.T, vm string, from time.Time, extra time.Duration) {
	t.Helper()
	for e.limaState(vm) != "Stopped" {
		if time.Since(from) > idlePeriod+idleCheck+extra+stopSlack {
			t.Fatalf("%s still %s %s after it went idle; broker log:\n%s", vm, e.limaState(vm), time.Since(from), e.brokerLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(from)
	t.Logf("%s stopped %s after it went idle", vm, took.Round(100*time.Millisecond))
	if took < idlePeriod {
		t.Errorf("%s stopped after %s, before its idle period %s", vm, took, idlePeriod)
	}
	// The broker logs once the stop has returned.
	want := `msg="idle stop: stopped the VM" vm=` + vm
	for end := time.Now().Add(5 * time.Second); !strings.Contains(e.brokerLog(), want); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the broker's log does not record the decision:\n%s", e.brokerLog())
		}
	}
}

func (e *env) brokerLog() string {
	b, _ := os.ReadFile(filepath.Join(e.StateHome, "sysvm", "logs", "broker.log"))
	return string(b)
}

// idleStatus is the idle part of `sysvm status --json`.
func (e *env) idleStatus(dir string) (state string, idle struct {
	Period  string `json:"period"`
	Keep    bool   `json:"keep"`
	Stopped string `json:"stopped"`
}) {
	e.t.Helper()
	var st struct {
		State string `json:"state"`
		Idle  *struct {
			Period  string `json:"period"`
			Keep    bool   `json:"keep"`
			Stopped string `json:"stopped"`
		} `json:"idle"`
	}
	r := e.ok(dir, "status", "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || st.Idle == nil {
		e.t.Fatalf("status --json: %v\n%s", err, r.Stdout)
	}
	idle = *st.Idle
	return st.State, idle
}

func TestIdleStopQuietVM(t *testing.T) {
	e := newIdleEnv(t)
	dir := e.idleProject("quiet")
	e.ok(dir, "up")
	upped := time.Now()
	broker := e.BrokerPID()
	if broker == 0 {
		t.Fatal("`sysvm up` of a VM with idle stop started no broker to watch it")
	}
	e.idleStopped(t, "quiet-dev", upped, 0)
	if e.BrokerPID() != broker && syscall.Kill(broker, 0) != nil {
		t.Error("the broker exited while the VM's idle stop was pending")
	}

	state, idle := e.idleStatus(dir)
	if state != "Stopped" || idle.Stopped == "" || idle.Period != "3s" {
		t.Errorf("status after idle stop: state %s, idle %+v", state, idle)
	}
	if r := e.ok(dir, "status"); !strings.Contains(r.Stdout, "by idle stop at ") {
		t.Errorf("status does not say the VM was stopped by idle stop:\n%s", r.Stdout)
	}

	// The next `sysvm up` starts it again, with the usual progress.
	if r := e.ok(dir, "up"); !strings.Contains(r.Stderr, "quiet-dev is running") {
		t.Errorf("want the start's progress: %s", r)
	}
	if _, idle := e.idleStatus(dir); idle.Stopped != "" {
		t.Errorf("a started VM still shows its idle stop: %+v", idle)
	}
}

func TestIdleStopNeverWithClient(t *testing.T) {
	e := newIdleEnv(t)
	dir := e.idleProject("busyuser")
	tm := e.attach(dir, nil)
	e.stays(t, "busyuser-dev", hold)
	if code := detach(t, tm); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	e.idleStopped(t, "busyuser-dev", time.Now(), 0)
}

func TestIdleStopNeverWithBusyGuest(t *testing.T) {
	e := newIdleEnv(t)
	dir := e.idleProject("build")
	// A build stand-in burning CPU in the Zellij session, which then runs
	// detached.
	tm := e.attach(dir, nil)
	tm.Line(`sh -c 'echo $$ > burn.pid; exec sh -c "while :; do :; done"'`)
	pid := readPID(t, filepath.Join(dir, "burn.pid"))
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if code := detach(t, tm); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	e.stays(t, "build-dev", hold)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The first sample after the kill may still span busy time.
	e.idleStopped(t, "build-dev", time.Now(), idleCheck)
}

func TestIdleStopKeepsWhatSysvmMustNotStop(t *testing.T) {
	e := newIdleEnv(t)
	dir := e.idleProject("kept")
	e.ok(dir, "up")
	e.ok(dir, "stop")

	// A VM that sysvm did not start is not sysvm's to stop.
	e.MustLimactl("start", "kept-dev")
	e.ok(dir, "up") // makes sure a broker watches
	e.stays(t, "kept-dev", hold)

	// `sysvm up --keep` keeps the run it starts.
	e.ok(dir, "stop")
	e.ok(dir, "up", "--keep")
	if _, idle := e.idleStatus(dir); !idle.Keep {
		t.Errorf("status does not show the keep: %+v", idle)
	}
	e.stays(t, "kept-dev", hold)

	// A new run started by sysvm without --keep is stopped again.
	e.ok(dir, "stop")
	e.ok(dir, "up")
	e.idleStopped(t, "kept-dev", time.Now(), 0)
}

func TestIdleStopSurvivesBrokerRestart(t *testing.T) {
	e := newIdleEnv(t)
	dir := e.idleProject("restart")
	e.ok(dir, "up")
	time.Sleep(idlePeriod / 2)
	e.ok(dir, "broker", "stop")
	if e.limaState("restart-dev") != "Running" {
		t.Fatal("the VM stopped with the broker")
	}
	// The new broker reads the rule from sysvm's records, and starts the
	// clock again: it has not watched the VM before.
	e.ok(dir, "up")
	e.idleStopped(t, "restart-dev", time.Now(), 0)
}
