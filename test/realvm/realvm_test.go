//go:build realvm

// Package realvm runs sysvm end to end against a real Lima VM: real
// limactl, real QEMU (software emulation) and a real Debian guest. It is
// run by test/realvm/run.sh, which builds and caches Lima and the guest
// image and exports where they are.
package realvm

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/test/lab"
	"github.com/sysvm/sysvm/test/term"
	"github.com/sysvm/sysvm/zellij/release/releasetest"
)

const (
	user     = "sysvmtest"
	limaHome = "/tmp/svrl"      // short: Lima puts sockets under it
	projDir  = "/tmp/svrp/demo" // mounted at the same path in the guest
	vmName   = "demo-dev"
	qemuTCG  = "qemu-system-x86_64 -machine q35,vmport=off -accel tcg,thread=multi,tb-size=512"
)

// rig is the environment every command of the scenario runs in.
type rig struct {
	t      *testing.T
	prefix string // Lima prefix (bin/limactl)
	image  string // guest image directory
	bin    string // directory with the sysvm binary
	home   string
	// mirror serves the zellij stand-in as the pinned Zellij release on
	// host loopback: sysvm downloads on the host and copies over SSH, so
	// the guest needs no route to it.
	mirror *releasetest.Server
}

func newRig(t *testing.T) *rig {
	if os.Geteuid() != 0 {
		t.Fatal("run as root through test/realvm/run.sh: limactl must run as the user sysvmtest")
	}
	r := &rig{t: t, prefix: os.Getenv("SYSVM_LIMA_PREFIX"), image: os.Getenv("SYSVM_IMAGE_DIR"), home: "/home/" + user}
	if r.prefix == "" || r.image == "" {
		t.Fatal("SYSVM_LIMA_PREFIX and SYSVM_IMAGE_DIR must be set: run test/realvm/run.sh")
	}
	// A world-readable directory for the sysvm binary (t.TempDir is 0700).
	r.bin = "/tmp/svrbin"
	must(t, os.RemoveAll(r.bin))
	must(t, os.MkdirAll(r.bin, 0o755))
	build := exec.Command("go", "build", "-o", filepath.Join(r.bin, "sysvm"), "github.com/sysvm/sysvm/cmd/sysvm")
	build.Stderr = os.Stderr
	must(t, build.Run())
	// The stand-in, static like Zellij's musl builds, as the release.
	standin := filepath.Join(r.bin, "zellij-standin")
	build = exec.Command("go", "build", "-trimpath", "-o", standin, "github.com/sysvm/sysvm/test/zellijstandin")
	build.Env, build.Stderr = append(os.Environ(), "CGO_ENABLED=0"), os.Stderr
	must(t, build.Run())
	bin, err := os.ReadFile(standin)
	must(t, err)
	r.mirror = releasetest.NewServer(bin)
	t.Cleanup(r.mirror.Close)
	// Fresh LIMA_HOME, project, state and Zellij cache, owned by the test user.
	r.asRoot("rm", "-rf", limaHome, filepath.Dir(projDir), r.home+"/.local/state/sysvm", r.home+"/.cache/sysvm")
	r.asRoot("install", "-d", "-o", user, "-g", user, "-m", "0755", limaHome, filepath.Dir(projDir), projDir)
	// The same project file as the demo's and the cold-start benchmark's.
	cfg, err := exec.Command("bash", "project-yaml.sh", r.image, "the demo project of the real-VM suite").Output()
	must(t, err)
	r.writeAsUser(filepath.Join(projDir, "sysvm.yaml"), string(cfg))
	r.writeAsUser(filepath.Join(projDir, "notes.txt"), "the user's work\n")
	// A layout with a shell first, so the test can type into it (the
	// default one opens an editor first).
	r.asRoot("install", "-d", "-o", user, "-g", user, "-m", "0755", filepath.Join(projDir, ".sysvm"))
	r.writeAsUser(filepath.Join(projDir, ".sysvm", "layout.kdl"), "layout {\n    tab name=\"main\" focus=true {\n        pane\n    }\n    tab name=\"edit\" {\n        pane\n    }\n}\n")
	r.ok("sysvm", "allow", projDir)
	t.Cleanup(func() {
		r.run("limactl", "delete", "-f", vmName)
		r.run("limactl", "delete", "-f", "raw")
		// Without XDG_RUNTIME_DIR the broker listens in sysvm's state directory.
		sock := filepath.Join(r.home, ".local", "state", "sysvm", "run", "broker.sock")
		if err := lab.StopBrokerAt(sock, filepath.Join(r.bin, "sysvm")); err != nil {
			t.Error(err)
		}
		r.removeUnlessFailed(limaHome, filepath.Dir(projDir), r.bin)
	})
	return r
}

// removeUnlessFailed removes the test's fixed directories under /tmp when it
// passed; after a failure they stay for a look (the next run replaces them).
func (r *rig) removeUnlessFailed(dirs ...string) {
	if r.t.Failed() {
		r.t.Logf("kept for a look: %s", strings.Join(dirs, " "))
		return
	}
	r.asRoot(append([]string{"rm", "-rf"}, dirs...)...)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (r *rig) asRoot(args ...string) {
	r.t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		r.t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

func (r *rig) writeAsUser(path, body string) {
	r.t.Helper()
	must(r.t, os.WriteFile(path, []byte(body), 0o644))
	r.asRoot("chown", user+":"+user, path)
}

// env is the test user's environment for sysvm and limactl.
func (r *rig) env() []string {
	return []string{
		"PATH=" + r.bin + ":" + r.prefix + "/bin:/usr/local/bin:/usr/bin:/bin",
		"HOME=" + r.home, "USER=" + user, "LOGNAME=" + user,
		"LIMA_HOME=" + limaHome, "QEMU_SYSTEM_X86_64=" + qemuTCG,
		"TERM=xterm-256color", "LANG=C.UTF-8",
		"SYSVM_START_TIMEOUT=15m",
		"SYSVM_ZELLIJ_URL=" + r.mirror.URL,
	}
}

// cmd builds a command run as the test user in the project directory.
func (r *rig) cmd(args ...string) *exec.Cmd {
	full := append([]string{"-u", user, "--", "env", "-i"}, r.env()...)
	full = append(full, "sh", "-c", `cd "$0" && exec "$@"`, projDir)
	c := exec.Command("runuser", append(full, args...)...)
	return c
}

// run runs a command as the test user and returns its output and exit code.
func (r *rig) run(args ...string) (string, string, int) {
	c := r.cmd(args...)
	var o, e strings.Builder
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("%v: %v", args, err)
	}
	return o.String(), e.String(), code
}

func (r *rig) ok(args ...string) string {
	r.t.Helper()
	out, errOut, code := r.run(args...)
	if code != 0 {
		r.t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
	}
	return out
}

type status struct {
	Project, VM, State, SessionState, HostKeys string
	SSHPort                                    int `json:"sshPort"`
}

func (r *rig) status() status {
	r.t.Helper()
	var s status
	must(r.t, json.Unmarshal([]byte(r.ok("sysvm", "status", "--json")), &s))
	return s
}

// timed runs a command and returns how long it took.
func (r *rig) timed(args ...string) (time.Duration, string) {
	r.t.Helper()
	start := time.Now()
	out, errOut, code := r.run(args...)
	d := time.Since(start)
	if code != 0 {
		r.t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
	}
	return d, errOut
}

// attach starts `sysvm attach` in a real terminal and waits for the shell
// in the project's session to answer.
func (r *rig) attach(t *testing.T) *term.Term {
	tm := term.Start(t, r.cmd("sysvm", "attach"))
	r.answer(tm, "echo ready-$((40+2))", "ready-42", 15*time.Minute)
	return tm
}

// answer types a command into the session and waits for want.
func (r *rig) answer(tm *term.Term, cmd, want string, timeout time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		mark := tm.Mark()
		tm.Line(cmd)
		wait := 10 * time.Second
		if time.Until(deadline) < wait {
			wait = time.Until(deadline)
		}
		if waitFor(tm, mark, want, wait) {
			return
		}
		if time.Now().After(deadline) || tm.Exited() {
			r.t.Fatalf("no %q after typing %q; screen:\n%s", want, cmd, tail(tm.Output()))
		}
	}
}

func waitFor(tm *term.Term, mark int, want string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if out := tm.Output(); len(out) > mark && strings.Contains(out[mark:], want) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}

// detach leaves the session with Zellij's detach key, Ctrl-o d.
func detach(t *testing.T, tm *term.Term) int {
	tm.Write("\x0fd")
	return tm.ExitCode(30 * time.Second)
}

func TestScenario(t *testing.T) {
	r := newRig(t)
	defer logFigures(t)

	// Cold up creates the VM from the generated config, with progress.
	cold, progress := r.timed("sysvm", "up")
	figures["cold sysvm up (create)"] = cold.Round(time.Second).String()
	if !strings.Contains(progress, "sysvm: creating demo-dev") || !strings.Contains(progress, "demo-dev is running") {
		t.Errorf("no boot progress on stderr:\n%s", progress)
	}
	if _, err := os.Stat(filepath.Join(projDir, ".lima", "config.yaml")); err != nil {
		t.Errorf("sysvm up did not write .lima/config.yaml: %v", err)
	}
	st := r.status()
	if st.State != "Running" || st.VM != vmName {
		t.Fatalf("status after up = %+v", st)
	}
	port1 := st.SSHPort

	// Attach lands in the project's session through sysvm's own SSH.
	tm := r.attach(t)
	r.answer(tm, "echo in-vm=$SYSINIT_IN_VM project=$PROJECT_NAME pwd=$(pwd)", "in-vm=1 project=demo pwd="+projDir, time.Minute)
	r.answer(tm, "echo written-in-guest > from-guest.txt && echo wrote-$((1+1))", "wrote-2", time.Minute)
	r.answer(tm, "sleep 100000 & echo bg-$((2+1))", "bg-3", time.Minute)
	if b, err := os.ReadFile(filepath.Join(projDir, "from-guest.txt")); err != nil || string(b) != "written-in-guest\n" {
		t.Errorf("file written in the VM is not on the host: %q, %v", b, err)
	}
	if _, errOut, _ := r.run("pgrep", "-u", user, "-f", "limactl shell"); errOut != "" {
		t.Logf("pgrep: %s", errOut)
	}
	if code := detach(t, tm); code != 0 {
		t.Errorf("detach: sysvm exited %d, want 0", code)
	}

	// Attach again: the same session, the background process still runs.
	tm = r.attach(t)
	r.answer(tm, "pgrep -f 'sleep 100000' >/dev/null && echo still-$((3+1))", "still-4", time.Minute)

	// Kill the SSH connection serving the session: sysvm reconnects by itself.
	mark := tm.Mark()
	r.ok("ssh", "-F", limaHome+"/"+vmName+"/ssh.config", "lima-"+vmName, "--",
		// The bracket keeps the pattern from matching this command line itself.
		"sudo pkill -KILL -f 'sshd: "+user[:len(user)-1]+"["+user[len(user)-1:]+"]@pts' ; true")
	if !waitFor(tm, mark, "reconnecting", 60*time.Second) {
		t.Fatalf("no reconnect message after the SSH connection was killed; screen:\n%s", tail(tm.Output()))
	}
	r.answer(tm, "pgrep -f 'sleep 100000' >/dev/null && echo same-$((4+1))", "same-5", 2*time.Minute)
	detach(t, tm)

	// Warm entry figures: sysvm shell against OpenSSH's multiplexed
	// connection and limactl shell, measured in the same run and
	// interleaved round by round (timing each in its own block lets the
	// machine's load differ between them).
	warm := [][]string{
		{"sysvm", "shell", "--", "true"},
		{"ssh", "-F", limaHome + "/" + vmName + "/ssh.config", "lima-" + vmName, "true"},
		{"limactl", "shell", "--workdir", "/", vmName, "true"},
	}
	names := []string{"sysvm shell -- true", "ssh -F ssh.config true", "limactl shell true"}
	times := make([][]time.Duration, len(warm))
	var toSSH, toLimactl []float64
	for _, args := range warm {
		r.ok(args...) // warm-up: the broker and the ControlMaster are up
	}
	for round := 0; round < 9; round++ {
		for i, args := range warm {
			d, _ := r.timed(args...)
			times[i] = append(times[i], d)
		}
		sv := float64(times[0][round])
		toSSH = append(toSSH, sv/float64(times[1][round]))
		toLimactl = append(toLimactl, sv/float64(times[2][round]))
	}
	for i, ds := range times {
		sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
		figures["warm "+names[i]+" (median of 9, interleaved)"] = ds[len(ds)/2].Round(time.Millisecond).String()
	}
	sort.Float64s(toSSH)
	sort.Float64s(toLimactl)
	figures["ratio sysvm/ssh, median of 9 rounds (min-max)"] = fmt.Sprintf("%.2f (%.2f-%.2f; goal <= 1.0)", toSSH[4], toSSH[0], toSSH[8])
	figures["ratio sysvm/limactl shell, median of 9 rounds (min-max)"] = fmt.Sprintf("%.2f (%.2f-%.2f; goal <= 0.5)", toLimactl[4], toLimactl[0], toLimactl[8])

	// Output throughput: 32 MiB out of the VM without a PTY, through the
	// broker against OpenSSH's multiplexed connection, interleaved. Under
	// software emulation the guest's sshd and its encryption are slow for
	// both; this is the check that sysvm's side adds nothing on a real guest.
	const streamed = 32 << 20
	stream := fmt.Sprintf("head -c %d /dev/zero >/dev/null", streamed)
	var rate [2][]float64
	var toSSHStream []float64
	for round := 0; round < 3; round++ {
		ds, _ := r.timed("sh", "-c", "sysvm shell -- "+stream)
		do, _ := r.timed("sh", "-c", "ssh -F "+limaHome+"/"+vmName+"/ssh.config lima-"+vmName+" "+stream)
		rate[0] = append(rate[0], streamed/ds.Seconds()/1e6)
		rate[1] = append(rate[1], streamed/do.Seconds()/1e6)
		toSSHStream = append(toSSHStream, do.Seconds()/ds.Seconds())
	}
	for i := range rate {
		sort.Float64s(rate[i])
	}
	sort.Float64s(toSSHStream)
	figures["32 MiB out, no PTY: sysvm / ssh -F (MB/s, medians of 3, interleaved)"] = fmt.Sprintf("%.1f / %.1f", rate[0][1], rate[1][1])
	figures["throughput ratio sysvm/ssh, median of 3 rounds (min-max)"] = fmt.Sprintf("%.2f (%.2f-%.2f; goal >= 0.9)", toSSHStream[1], toSSHStream[0], toSSHStream[2])

	// Stop, then attach starts the VM again (a new SSH port) and attaches.
	r.ok("sysvm", "stop")
	if st := r.status(); st.State != "Stopped" {
		t.Fatalf("status after stop = %+v", st)
	}
	restart := time.Now()
	tm = r.attach(t)
	figures["restart by attach"] = time.Since(restart).Round(time.Second).String()
	r.answer(tm, "cat from-guest.txt", "written-in-guest", time.Minute)
	detach(t, tm)
	if st := r.status(); st.State != "Running" || st.SSHPort == port1 {
		t.Errorf("after restart: %+v (old port %d): want Running on a new port", st, port1)
	}

	// The guest printed its host key fingerprints on its serial console
	// (cloud-init's keys_to_console), so a restart made outside sysvm, with
	// the new host keys of a new boot, needs no forget-host-key.
	consoleKeys(t, r, "after a start by sysvm")
	r.ok("limactl", "stop", vmName)
	r.ok("limactl", "start", "--tty=false", vmName)
	consoleKeys(t, r, "after limactl stop and start")
	if out, errOut, code := r.run("sysvm", "shell", "--", "echo", "console-key-ok"); code != 0 || !strings.Contains(out, "console-key-ok") {
		t.Errorf("sysvm shell after a restart outside sysvm: exit %d\n%s%s", code, out, errOut)
	}
	if pin, err := os.ReadFile(r.home + "/.local/state/sysvm/hostkeys/" + vmName); err != nil {
		t.Errorf("no pin after the restart outside sysvm: %v", err)
	} else if k, _, _, _, err := gossh.ParseAuthorizedKey(pin); err != nil || !consoleKeys(t, r, "for the pin")[gossh.FingerprintSHA256(k)] {
		t.Errorf("the pinned key %q is not among the console's fingerprints (%v)", pin, err)
	}
	// A host crash: kill -9 QEMU and the host agent (their pids from the
	// instance's pid files, as the test user), leaving the pid files and
	// ha.sock behind. Attach recovers by itself and says so in one line.
	var crashed []string
	for _, f := range []string{"qemu.pid", "ha.pid"} {
		b, err := os.ReadFile(filepath.Join(limaHome, vmName, f))
		must(t, err)
		crashed = append(crashed, strings.TrimSpace(string(b)))
	}
	r.ok(append([]string{"kill", "-9"}, crashed...)...)
	for end := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_, _, c1 := r.run("kill", "-0", crashed[0])
		_, _, c2 := r.run("kill", "-0", crashed[1])
		if c1 != 0 && c2 != 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("QEMU or the host agent survived kill -9: %v", crashed)
		}
	}
	tm = r.attach(t)
	if !strings.Contains(tm.Output(), "was not shut down cleanly") {
		t.Errorf("attach after the crash did not say what it repaired:\n%s", tail(tm.Output()))
	}
	r.answer(tm, "cat from-guest.txt", "written-in-guest", time.Minute)
	detach(t, tm)

	// Destroy: the VM is gone, the project's files are untouched, and the
	// pinned host key is forgotten.
	r.ok("sysvm", "destroy", "--yes")
	if st := r.status(); st.State != "NotCreated" {
		t.Errorf("status after destroy = %+v", st)
	}
	for _, f := range []string{"notes.txt", "from-guest.txt", "sysvm.yaml", ".lima/config.yaml"} {
		if _, err := os.Stat(filepath.Join(projDir, f)); err != nil {
			t.Errorf("destroy touched the project: %s: %v", f, err)
		}
	}
	if _, err := os.Stat(r.home + "/.local/state/sysvm/hostkeys/" + vmName); !os.IsNotExist(err) {
		t.Errorf("the host key pin survived destroy: %v", err)
	}

	// Cold up again, against raw limactl start of the same config.
	cold2, _ := r.timed("sysvm", "up")
	figures["cold sysvm up (create, 2nd)"] = cold2.Round(time.Second).String()
	r.ok("sysvm", "shell", "--", "true") // pins the new VM's key
	if _, err := os.Stat(r.home + "/.local/state/sysvm/hostkeys/" + vmName); err != nil {
		t.Errorf("no host key pinned for the recreated VM: %v", err)
	}
	r.ok("sysvm", "destroy", "--yes")
	coldUp = cold
	if cold2 < cold {
		coldUp = cold2
	}
}

// consoleKeys returns the host key fingerprints the VM's serial console
// shows for its current boot, failing the test when there are none, and
// checks that status says keys are checked against them.
func consoleKeys(t *testing.T, r *rig, when string) map[string]bool {
	t.Helper()
	// cloud-init prints them at the very end of the boot, just after Lima
	// reports the VM running.
	fps, err := lima.InstanceAt(limaHome, vmName).ConsoleFingerprints()
	for deadline := time.Now().Add(time.Minute); err == nil && len(fps) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		fps, err = lima.InstanceAt(limaHome, vmName).ConsoleFingerprints()
	}
	if err != nil || len(fps) == 0 {
		b, _ := os.ReadFile(filepath.Join(limaHome, vmName, "serial.log"))
		t.Errorf("%s: no host key fingerprints on the console (%v); end of serial.log:\n%s", when, err, tail(string(b)))
	}
	if st := r.status(); st.HostKeys != "console" {
		t.Errorf("%s: status hostKeys = %q, want console", when, st.HostKeys)
	}
	return fps
}

// figures are the measurements of the run, printed at the end of each test.
var figures = map[string]string{}

func logFigures(t *testing.T) {
	keys := make([]string, 0, len(figures))
	for k := range figures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("figures: %s = %s", k, figures[k])
	}
}

// coldUp is the faster of TestScenario's two cold `sysvm up` runs, for
// TestContract to compare with a raw `limactl start` of the same config.
var coldUp time.Duration

// observation is what one step of the contract run showed.
type observation struct {
	Step   string
	Exit   int
	Keys   []string // JSON keys of the instance, for list steps
	Status string
	Port   bool // sshLocalPort present and > 0
}

// contractRun drives one limactl (real or fake) through the steps sysvm
// relies on and records what it saw.
func contractRun(t *testing.T, r *rig, limactl, home, cfg string) ([]observation, []string) {
	var obs []observation
	run := func(args ...string) (string, string, int) {
		c := exec.Command("runuser", append([]string{"-u", user, "--", "env", "-i"},
			append(append(r.env(), "LIMA_HOME="+home), append([]string{limactl}, args...)...)...)...)
		c.Dir = "/"
		var o, e strings.Builder
		c.Stdout, c.Stderr = &o, &e
		err := c.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return o.String(), e.String(), code
	}
	list := func(step string) {
		out, _, code := run("list", "--json", "c1")
		o := observation{Step: step, Exit: code}
		if line := strings.TrimSpace(out); line != "" {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: %s is not one JSON object per line: %v", limactl, step, err)
			}
			for k := range m {
				o.Keys = append(o.Keys, k)
			}
			sort.Strings(o.Keys)
			o.Status, _ = m["status"].(string)
			p, _ := m["sshLocalPort"].(float64)
			o.Port = p > 0
		}
		obs = append(obs, o)
	}
	step := func(name string, args ...string) {
		_, errOut, code := run(args...)
		if code != 0 && strings.Contains(errOut, `level=fatal msg="degraded`) {
			// Real Lima on a loaded machine can report the guest agent late
			// and exit 1 with the VM running; the fake has no such state.
			t.Logf("%s %v: started degraded (VM running, exit 1); compared as a start", limactl, args)
			code = 0
		} else if code != 0 {
			t.Logf("%s %v: exit %d: %s", limactl, args, code, errOut)
		}
		obs = append(obs, observation{Step: name, Exit: code})
	}
	list("list of a missing name")
	start := time.Now()
	step("create", "start", "--name=c1", "--tty=false", "--timeout=15m", cfg)
	if strings.Contains(limactl, r.prefix) {
		figures["cold raw limactl start"] = time.Since(start).Round(time.Second).String()
	}
	list("list running")
	sshcfg, _ := os.ReadFile(filepath.Join(home, "c1", "ssh.config"))
	step("stop", "stop", "c1")
	list("list stopped")
	step("start", "start", "--tty=false", "--timeout=15m", "c1")
	list("list restarted")
	step("delete", "delete", "-f", "c1")
	list("list deleted")
	return obs, sshConfigShape(string(sshcfg))
}

// sshConfigShape is the ssh.config with values removed: comments, the Host
// line and the option names in order.
func sshConfigShape(s string) []string {
	var shape []string
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case strings.HasPrefix(line, "#"):
			shape = append(shape, line)
		default:
			shape = append(shape, f[0])
		}
	}
	return shape
}

// TestContract runs the same steps against the lab's fake limactl and the
// real one and compares exit codes, statuses, JSON field names and the
// ssh.config shape, so the fast lab stays honest.
func TestContract(t *testing.T) {
	r := newRig(t)
	defer logFigures(t)
	fakeDir := filepath.Join(r.bin, "fake")
	must(t, os.MkdirAll(filepath.Join(fakeDir, "guest-bin"), 0o755))
	for pkg, out := range map[string]string{"fakelimactl": "limactl", "zellijstandin": "guest-bin/zellij"} {
		b := exec.Command("go", "build", "-o", filepath.Join(fakeDir, out), "github.com/sysvm/sysvm/test/"+pkg)
		b.Stderr = os.Stderr
		must(t, b.Run())
	}
	realHome, fakeHome := "/tmp/svcr", "/tmp/svcf"
	for _, h := range []string{realHome, fakeHome} {
		r.asRoot("rm", "-rf", h)
		r.asRoot("install", "-d", "-o", user, "-g", user, "-m", "0755", h)
	}
	t.Cleanup(func() { r.removeUnlessFailed(realHome, fakeHome) })
	cfg := filepath.Join(projDir, ".lima", "config.yaml")
	if _, err := os.Stat(cfg); err != nil {
		out := r.ok("sysvm", "config") // TestScenario normally wrote it
		r.writeAsUser(filepath.Join(filepath.Dir(projDir), "contract.yaml"), out)
		cfg = filepath.Join(filepath.Dir(projDir), "contract.yaml")
	}
	realObs, realShape := contractRun(t, r, r.prefix+"/bin/limactl", realHome, cfg)
	fakeObs, fakeShape := contractRun(t, r, filepath.Join(fakeDir, "limactl"), fakeHome, cfg)
	if coldUp > 0 && figures["cold raw limactl start"] != "" {
		raw, _ := time.ParseDuration(figures["cold raw limactl start"])
		figures["ratio cold sysvm up/limactl start"] = fmt.Sprintf("%.3f (goal <= 1.02; single boots vary by several seconds)",
			math.Round(float64(coldUp)/float64(raw)*1000)/1000)
	}
	for i := range realObs {
		re, fa := realObs[i], fakeObs[i]
		if re.Exit != fa.Exit || re.Status != fa.Status || re.Port != fa.Port {
			t.Errorf("%s: real %+v, fake %+v", re.Step, re, fa)
		}
		realKeys := map[string]bool{}
		for _, k := range re.Keys {
			realKeys[k] = true
		}
		for _, k := range fa.Keys {
			if !realKeys[k] {
				t.Errorf("%s: the fake emits %q, which real limactl does not", re.Step, k)
			}
		}
		for _, k := range []string{"name", "status", "dir", "sshConfigFile", "sshLocalPort"} {
			inReal, inFake := realKeys[k], false
			for _, f := range fa.Keys {
				inFake = inFake || f == k
			}
			if inReal != inFake {
				t.Errorf("%s: key %q present in real=%v fake=%v", re.Step, k, inReal, inFake)
			}
		}
		t.Logf("contract %-24s exit %d status %-8q keys %d (fake %d)", re.Step, re.Exit, re.Status, len(re.Keys), len(fa.Keys))
	}
	if strings.Join(realShape, "|") != strings.Join(fakeShape, "|") {
		t.Errorf("ssh.config shape differs:\nreal %q\nfake %q", realShape, fakeShape)
	}
}

// TestValidate: every flavour of config sysvm generates here passes the
// real `limactl validate`. (Linux's limactl cannot judge the macOS `vz`
// flavour, so only the qemu one is checked.)
func TestValidate(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		name, yaml string
		args       []string
	}{
		{"defaults", "", nil},
		{"settings", "cpus: 2\nmemory: 3GiB\ndisk: 20GiB\nports: [3000, \"8080:80\"]\nforwardAgent: true\nprovision: |\n  echo hello\n", nil},
		{"flags", "", []string{"--cpus", "1", "--memory", "1", "--image", "/var/cache/img.qcow2", "--port", "5432"}},
		{"lima override", "lima:\n  cpuType:\n    x86_64: max\n  firmware:\n    legacyBIOS: true\n  ssh:\n    localPort: 2222\n", nil},
		{"odd name", "name: web.2_api\n", nil},
	}
	for _, c := range cases {
		dir := filepath.Join(filepath.Dir(projDir), strings.ReplaceAll(c.name, " ", "-"))
		r.asRoot("install", "-d", "-o", user, "-g", user, "-m", "0755", dir)
		r.writeAsUser(filepath.Join(dir, "sysvm.yaml"), c.yaml)
		r.ok("sysvm", "allow", dir)
		out := r.ok(append([]string{"sysvm", "config", dir}, c.args...)...)
		file := filepath.Join(dir, "generated.yaml")
		r.writeAsUser(file, out)
		if _, errOut, code := r.run("limactl", "validate", file); code != 0 {
			t.Errorf("%s: limactl validate rejects the generated config: %s\n%s", c.name, errOut, out)
		} else {
			t.Logf("validate %s: OK", c.name)
		}
	}
}
