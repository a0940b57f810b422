package vm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/ui/uitest"
)

func TestChanges(t *testing.T) {
	base := "# comment\ncpus: 4\nmemory: 4GiB\nportForwards:\n  - guestPort: 3000\n"
	tests := []struct {
		name, after string
		want        []string
	}{
		{"same", base, nil},
		{"comments and order do not count", "memory: 4GiB\n# other\ncpus: 4\nportForwards:\n  - guestPort: 3000\n", nil},
		{"scalars", "cpus: 2\nmemory: 8GiB\nportForwards:\n  - guestPort: 3000\n", []string{"cpus: 4 → 2", "memory: 4GiB → 8GiB"}},
		{"lists", "cpus: 4\nmemory: 4GiB\nportForwards:\n  - guestPort: 8080\n", []string{"portForwards changed"}},
		{"added and removed", "cpus: 4\nmemory: 4GiB\ndisk: 9GiB\n", []string{"disk added", "portForwards removed"}},
		{"not YAML", "cpus: [", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Changes([]byte(base), []byte(tt.after)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Changes = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestEnsureConfig: sysvm writes a missing config, regenerates its own
// unedited one when the settings change, and never touches an edited one.
func TestEnsureConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, project.FileName), []byte("cpus: 2\n"), 0o644)
	// Each step loads the project anew, as each sysvm command does: the
	// config is worked on as the project was loaded.
	load := func() *project.Project {
		p, err := project.Load(dir, project.Options{LimaHome: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := load()
	m := &Manager{Host: limaconfig.Host{OS: "linux", Arch: "x86_64"}, State: state.Dir(t.TempDir())}
	settings := func(cpus int) limaconfig.Settings {
		s, err := limaconfig.Resolve(p, limaconfig.Overrides{CPUs: cpus}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	read := func() string {
		b, _ := os.ReadFile(p.LimaConfig())
		return string(b)
	}
	c, err := m.EnsureConfig(p, settings(0))
	if err != nil || !c.Exists || c.Edited || !strings.Contains(read(), "cpus: 2") || string(c.Bytes) != read() {
		t.Fatalf("first write: %+v, %v\n%s", c, err, read())
	}
	c, err = m.EnsureConfig(load(), settings(6))
	if err != nil || c.Edited || !strings.Contains(read(), "cpus: 6") || string(c.Bytes) != read() {
		t.Fatalf("settings changed, file unedited: %+v, %v\n%s", c, err, read())
	}
	edited := strings.Replace(read(), "cpus: 6", "cpus: 7", 1)
	os.WriteFile(p.LimaConfig(), []byte(edited), 0o644)
	c, err = m.EnsureConfig(load(), settings(8))
	if err != nil || !c.Edited || !c.Differs || read() != edited || string(c.Bytes) != edited {
		t.Fatalf("edited file: %+v, %v; it now reads\n%s", c, err, read())
	}
	if st := m.ConfigState(load(), settings(8)); !st.Edited || !st.Differs {
		t.Errorf("ConfigState of the edited file: %+v", st)
	}
	// What the project was loaded with is what is used: a change made
	// after loading is not.
	p = load()
	os.WriteFile(p.LimaConfig(), []byte("mounts: [{location: \"~\", writable: true}]\n"), 0o644)
	if c, err = m.EnsureConfig(p, settings(8)); err != nil || string(c.Bytes) != edited {
		t.Errorf("a change after loading reached the config used: %q, %v", c.Bytes, err)
	}
}

// A committed config that carries no record of sysvm's is the user's,
// however it looks: it is never regenerated, and a .lima that links out of
// the project is never written through.
func TestEnsureConfigTrustsOnlyItsRecord(t *testing.T) {
	m := &Manager{Host: limaconfig.Host{OS: "linux", Arch: "x86_64"}, State: state.Dir(t.TempDir())}
	dir := t.TempDir()
	p, err := project.Load(dir, project.Options{LimaHome: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := limaconfig.Resolve(p, limaconfig.Overrides{}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	gen, err := limaconfig.Generate(p, s, m.Host)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(gen), "cpus: 4", "cpus: 1", 1)
	os.MkdirAll(filepath.Join(dir, ".lima"), 0o755)
	os.WriteFile(p.LimaConfig(), []byte(other), 0o644)
	p, _ = project.Load(dir, project.Options{LimaHome: t.TempDir()})
	c, err := m.EnsureConfig(p, s)
	if b, _ := os.ReadFile(p.LimaConfig()); err != nil || !c.Edited || string(b) != other {
		t.Errorf("a config sysvm has no record of was regenerated: %+v, %v", c, err)
	}

	link := t.TempDir()
	elsewhere := t.TempDir()
	os.Symlink(elsewhere, filepath.Join(link, ".lima"))
	p = &project.Project{Dir: link, Slug: "l", VM: "l-dev"}
	if _, err := m.EnsureConfig(p, s); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("EnsureConfig through a .lima link = %v", err)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Errorf("sysvm wrote through the link: %v", ents)
	}
}

// TestWaitReadyDefaultTimeout: a Manager with no StartTimeout set waits the
// default, rather than giving up at once.
func TestWaitReadyDefaultTimeout(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "ha.stdout.log")
	os.WriteFile(events, []byte(`{"status":{"running":false}}`+"\n"), 0o644)
	go func() {
		time.Sleep(700 * time.Millisecond)
		f, _ := os.OpenFile(events, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(`{"status":{"running":true}}` + "\n")
		f.Close()
	}()
	m := &Manager{}
	if err := m.waitReady(context.Background(), &lima.Instance{Name: "x-dev", Dir: dir}); err != nil {
		t.Fatalf("waitReady with the default timeout: %v", err)
	}
}

// scriptLimactl writes a limactl whose start runs body; every other
// command answers as Lima 2.2.0.
func scriptLimactl(t *testing.T, body string) *lima.Client {
	t.Helper()
	dir := t.TempDir()
	exe := filepath.Join(dir, "limactl")
	script := "#!/bin/sh\ncase \"$1\" in --version) echo 'limactl version 2.2.0'; exit 0;; esac\n" + body
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &lima.Client{Exe: exe, Dir: dir}
}

// TestInterruptedStartLeavesLimactl: Ctrl-C stops sysvm's wait, and the
// limactl it started (a create, perhaps) runs to its end unsignalled.
func TestInterruptedStartLeavesLimactl(t *testing.T) {
	dir := t.TempDir()
	started, result := filepath.Join(dir, "started"), filepath.Join(dir, "result")
	l := scriptLimactl(t, "trap 'kill $p; echo signalled >"+result+"; exit 143' TERM INT\n"+
		"touch "+started+"; sleep 1 & p=$!; wait $p\necho finished >"+result+"\n")
	m := &Manager{Lima: l, LimaHome: t.TempDir(), State: state.Dir(t.TempDir())}
	// Ctrl-C once limactl start runs.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(started); err == nil {
				cancel()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if err := m.start(ctx, "x-dev", "", "creating", nil); !errors.Is(err, hint.ErrInterrupted) {
		t.Fatalf("start = %v, want hint.ErrInterrupted", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(result)
		if got := strings.TrimSpace(string(b)); got != "" {
			if got != "finished" {
				t.Errorf("limactl after the interrupted wait: %s, want finished", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("limactl never ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStartKilledAfterTimeout: a limactl that ignores its --timeout is
// ended by sysvm a little after it, with the error that says what to do.
func TestStartKilledAfterTimeout(t *testing.T) {
	l := scriptLimactl(t, "trap 'kill $p; exit 143' TERM\nsleep 30 & p=$!; wait $p\n")
	m := &Manager{Lima: l, LimaHome: t.TempDir(), State: state.Dir(t.TempDir()), StartTimeout: time.Millisecond}
	err := m.start(context.Background(), "x-dev", "", "starting", nil)
	if err == nil || !strings.Contains(err.Error(), "did not become ready within 1ms") ||
		!strings.Contains(strings.Join(hint.Of(err), "\n"), "SYSVM_START_TIMEOUT") {
		t.Errorf("start = %v", err)
	}
}

// TestAwaitHostKeysSaysWhatItWaitsFor: a console that shows fingerprints
// ends the wait at once and quietly; one that shows none is waited for, with
// a word after a second and one at the end on the key being trusted.
func TestAwaitHostKeysSaysWhatItWaitsFor(t *testing.T) {
	block := "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 SHA256:aaa root@lima-x (ED25519)\n-----END SSH HOST KEY FINGERPRINTS-----\n"
	for _, tc := range []struct {
		name, console string
		want          []string
	}{
		{"printed", "boot\n" + block + "login: ", nil},
		{"none", "boot\nlogin: ", []string{
			"sysvm: waiting up to 500ms for x-dev to print its SSH host key fingerprints on its console",
			"sysvm: x-dev printed none: sysvm trusts the host key of the first connection",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			os.MkdirAll(filepath.Join(home, "x-dev"), 0o755)
			os.WriteFile(filepath.Join(home, "x-dev", "serial.log"), []byte(tc.console), 0o644)
			u, _, _, out := uitest.New()
			m := &Manager{LimaHome: home, Progress: &Progress{UI: u}}
			m.awaitHostKeys(context.Background(), "x-dev", 1500*time.Millisecond)
			if got := splitLines(out.String()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("said %q, want %q", got, tc.want)
			}
		})
	}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// TestIdleStopLeavesARecentlyEnsuredVM: a command that ensured the VM
// within the period is about to use it, though the broker sees no client
// yet; idle stop leaves the VM alone without asking Lima (this Manager has
// no limactl to ask).
func TestIdleStopLeavesARecentlyEnsuredVM(t *testing.T) {
	m := &Manager{State: state.Dir(t.TempDir())}
	rec := state.Record{Name: "x", VM: "x-dev", Updated: time.Now().Add(-time.Minute),
		Idle: state.Idle{Period: state.Duration(time.Hour), StartedPID: 42}}
	if err := m.State.Save(rec); err != nil {
		t.Fatal(err)
	}
	if stopped, err := m.IdleStop(context.Background(), "x-dev"); stopped || err != nil {
		t.Errorf("IdleStop = %v, %v; want the VM left alone", stopped, err)
	}
}

// TestIdleStopStopsAnIdleVM, the counterpart: the same VM, still run by
// the host agent sysvm started, not ensured for longer than the period, is
// stopped, and its record says so.
func TestIdleStopStopsAnIdleVM(t *testing.T) {
	l := scriptLimactl(t, `case "$1" in
list) echo '{"name":"x-dev","status":"Running","dir":"/nowhere","hostAgentPID":42}';;
stop) echo "$*" >>"$(dirname "$0")/calls";;
esac
`)
	m := &Manager{Lima: l, State: state.Dir(t.TempDir())}
	rec := state.Record{Name: "x", VM: "x-dev", Updated: time.Now().Add(-2 * time.Hour),
		Idle: state.Idle{Period: state.Duration(time.Hour), StartedPID: 42}}
	if err := m.State.Save(rec); err != nil {
		t.Fatal(err)
	}
	if stopped, err := m.IdleStop(context.Background(), "x-dev"); !stopped || err != nil {
		t.Fatalf("IdleStop = %v, %v; want the VM stopped", stopped, err)
	}
	if calls, _ := os.ReadFile(filepath.Join(l.Dir, "calls")); string(calls) != "stop --tty=false x-dev\n" {
		t.Errorf("limactl calls: %q, want one stop of x-dev", calls)
	}
	if idle := m.IdleState("x-dev"); idle.Stopped.IsZero() || idle.StartedPID != 0 {
		t.Errorf("the record after the stop: %+v, want it stopped and no longer started by sysvm", idle)
	}
}
