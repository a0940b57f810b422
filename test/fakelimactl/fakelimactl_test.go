package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sysvm/sysvm/test/lab"
	"github.com/sysvm/sysvm/test/procs"
)

func TestMain(m *testing.M) { lab.Main(m) }

// logLineRe matches one logrus non-TTY line.
var logLineRe = regexp.MustCompile(`^time="[0-9T:+\-Z]+" level=(info|warning|error|fatal) msg=`)

func checkLogLines(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if line != "" && !logLineRe.MatchString(line) {
			t.Errorf("stderr line is not in logrus format: %q", line)
		}
	}
}

// fatalMsg returns the msg of the single level=fatal line.
func fatalMsg(t *testing.T, stderr string) string {
	t.Helper()
	var msgs []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, " level=fatal ") {
			_, msg, _ := strings.Cut(line, " msg=")
			if uq, err := strconv.Unquote(msg); err == nil {
				msg = uq
			}
			msgs = append(msgs, msg)
		}
	}
	if len(msgs) != 1 {
		t.Fatalf("want exactly one level=fatal line, got %d in:\n%s", len(msgs), stderr)
	}
	return msgs[0]
}

// listed decodes `limactl list --json` output (NDJSON).
func listed(t *testing.T, l *lab.Lab, names ...string) []map[string]any {
	t.Helper()
	res := l.Limactl(append([]string{"list", "--json"}, names...)...)
	if res.ExitCode != 0 {
		t.Fatalf("list --json: %s", res)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("list --json line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func one(t *testing.T, l *lab.Lab, name string) map[string]any {
	t.Helper()
	got := listed(t, l, name)
	if len(got) != 1 {
		t.Fatalf("list --json %s: want 1 object, got %d", name, len(got))
	}
	return got[0]
}

// jsonKeys returns the top-level keys of a JSON object in document order.
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %q", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestVersionAndEmptyList(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	if res := l.MustLimactl("--version"); res.Stdout != "limactl version 1.2.2\n" {
		t.Errorf("--version: got %q", res.Stdout)
	}
	res := l.Limactl("list", "--json")
	if res.ExitCode != 0 || res.Stdout != "" ||
		!strings.Contains(res.Stderr, "level=warning msg=\"No instance found. Run `limactl create` to create an instance.\"") {
		t.Errorf("list with no instances: %s", res)
	}
	checkLogLines(t, res.Stderr)
	if res := l.Limactl("frobnicate"); res.ExitCode != 1 || fatalMsg(t, res.Stderr) != `unknown command "frobnicate" for "limactl"` {
		t.Errorf("unknown command: %s", res)
	}
	if res := l.Limactl("list", "--bogus"); res.ExitCode != 1 || fatalMsg(t, res.Stderr) != "unknown flag: --bogus" {
		t.Errorf("unknown flag: %s", res)
	}
}

func TestLifecycle(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	yamlPath := l.WriteLimaYAML("proj", "mounts:\n- location: "+l.WorkDir+"\n  writable: true\n")

	res := l.Limactl("start", "--name=proj", "--tty=false", "--timeout=60s", yamlPath)
	if res.ExitCode != 0 {
		t.Fatalf("start: %s", res)
	}
	checkLogLines(t, res.Stderr)
	portRe := regexp.MustCompile(`level=info msg="SSH Local Port: (\d+)"`)
	m := portRe.FindStringSubmatch(res.Stderr)
	if m == nil || !strings.Contains(res.Stderr, "msg=\"READY. Run `limactl shell proj` to open the shell.\"") {
		t.Fatalf("start output lacks SSH Local Port/READY:\n%s", res.Stderr)
	}
	port1, _ := strconv.Atoi(m[1])

	// list --json: field names, order and values.
	line := strings.TrimSpace(l.MustLimactl("list", "--json", "proj").Stdout)
	wantKeys := []string{"name", "hostname", "status", "dir", "vmType", "arch", "cpuType", "cpus", "memory", "disk",
		"sshLocalPort", "sshConfigFile", "hostAgentPID", "driverPID", "config", "sshAddress", "protected",
		"limaVersion", "HostOS", "HostArch", "LimaHome", "IdentityFile"}
	if got := jsonKeys(t, line); strings.Join(got, ",") != strings.Join(wantKeys, ",") {
		t.Errorf("list --json keys:\n got %v\nwant %v", got, wantKeys)
	}
	inst := one(t, l, "proj")
	dir := filepath.Join(l.LimaHome, "proj")
	for k, want := range map[string]any{
		"name": "proj", "hostname": "lima-proj", "status": "Running", "dir": dir, "vmType": "qemu",
		"cpus": 1.0, "memory": float64(1 << 30), "disk": float64(4 << 30), "sshLocalPort": float64(port1),
		"sshConfigFile": filepath.Join(dir, "ssh.config"), "sshAddress": "127.0.0.1", "protected": false,
		"limaVersion": "v1.2.2", "LimaHome": l.LimaHome, "IdentityFile": filepath.Join(l.LimaHome, "_config", "user"),
	} {
		if inst[k] != want {
			t.Errorf("list --json %s = %#v, want %#v", k, inst[k], want)
		}
	}
	cfg := inst["config"].(map[string]any)
	if mounts := cfg["mounts"].([]any); len(mounts) != 1 || mounts[0].(map[string]any)["mountPoint"] != l.WorkDir {
		t.Errorf("config.mounts = %v", cfg["mounts"])
	}

	// ssh.config in Lima v1.2.2's exact format.
	sshConfig, err := os.ReadFile(filepath.Join(dir, "ssh.config"))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, "ssh.config"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("ssh.config mode %v, want 0600", st.Mode().Perm())
	}
	wantCfg := regexp.MustCompile(`^# This SSH config file can be passed to 'ssh -F'.
# This file is created by Lima, but not used by Lima itself currently.
# Modifications to this file will be lost on restarting the Lima instance.
Host lima-proj
  IdentityFile "` + regexp.QuoteMeta(l.LimaHome) + `/_config/user"
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  NoHostAuthenticationForLocalhost yes
  PreferredAuthentications publickey
  Compression no
  BatchMode yes
  IdentitiesOnly yes
  GSSAPIAuthentication no
  Ciphers "\^(aes128-gcm@openssh.com,aes256-gcm@openssh.com|chacha20-poly1305@openssh.com)"
  User \S+
  ControlMaster auto
  ControlPath "` + regexp.QuoteMeta(dir) + `/ssh.sock"
  ControlPersist yes
  Hostname 127.0.0.1
  Port ` + strconv.Itoa(port1) + `
$`)
	if !wantCfg.Match(sshConfig) {
		t.Errorf("ssh.config does not match Lima's format:\n%s", sshConfig)
	}
	for _, f := range []string{"lima.yaml", "lima-version", "cloud-config.yaml", "ha.pid", "qemu.pid", "ha.sock", "ssh.sock"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("running instance lacks %s: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ha.stdout.log")); !bytes.Contains(b, []byte(`"status":{"running":true,"sshLocalPort":`+strconv.Itoa(port1)+`}`)) {
		t.Errorf("ha.stdout.log lacks the running event:\n%s", b)
	}

	// A real OpenSSH client gets in, with the guest environment.
	out := l.Run("ssh", "-F", filepath.Join(dir, "ssh.config"), "-o", "BatchMode=yes", "lima-proj",
		"true && echo \"$PATH|$ZELLIJ_STANDIN_DIR|$FAKELIMA_INSTANCE|$HOME\"")
	if out.ExitCode != 0 {
		t.Fatalf("ssh -F ssh.config lima-proj: %s", out)
	}
	want := l.Bin.GuestBin + ":/usr/local/bin:/usr/bin:/bin|" + filepath.Join(dir, "guest") + "|proj|" + filepath.Join(dir, "home")
	if strings.TrimSpace(out.Stdout) != want {
		t.Errorf("guest env = %q, want %q", strings.TrimSpace(out.Stdout), want)
	}
	// limactl shell passes the exit code through.
	if res := l.Limactl("shell", "--workdir", "/", "proj", "--", "sh", "-c", "pwd; exit 3"); res.ExitCode != 3 || res.Stdout != "/\n" {
		t.Errorf("shell exit code passthrough: %s", res)
	}

	// Start again while running: INFO, exit 0.
	if res := l.MustLimactl("start", "proj"); !strings.Contains(res.Stderr, "The instance \\\"proj\\\" is already running. Run `limactl shell proj` to open the shell.") {
		t.Errorf("start of a running instance: %s", res)
	}

	sshdPid, err := l.SSHDPid("proj")
	if err != nil {
		t.Fatal(err)
	}
	l.MustLimactl("stop", "proj")
	if procs.Alive(sshdPid) {
		t.Errorf("sshd %d still alive after stop", sshdPid)
	}
	inst = one(t, l, "proj")
	if inst["status"] != "Stopped" {
		t.Errorf("status after stop = %v", inst["status"])
	}
	for _, k := range []string{"sshLocalPort", "hostAgentPID", "driverPID", "errors"} {
		if _, ok := inst[k]; ok {
			t.Errorf("stopped instance has %q in list --json", k)
		}
	}
	for _, f := range []string{"ha.pid", "qemu.pid", "ha.sock", "ssh.sock"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("stopped instance still has %s", f)
		}
	}
	if res := l.Limactl("stop", "proj"); res.ExitCode != 1 ||
		fatalMsg(t, res.Stderr) != "expected status \"Running\", got \"Stopped\" (maybe use `limactl stop -f`?)" {
		t.Errorf("stop of a stopped instance: %s", res)
	}
	if res := l.Limactl("shell", "proj", "true"); res.ExitCode != 1 ||
		fatalMsg(t, res.Stderr) != "instance \"proj\" is stopped, run `limactl start proj` to start the instance" {
		t.Errorf("shell of a stopped instance: %s", res)
	}

	// Restart: a new port, ssh.config rewritten.
	res = l.MustLimactl("start", "--tty=false", "proj")
	m = portRe.FindStringSubmatch(res.Stderr)
	if m == nil {
		t.Fatalf("restart output lacks the port:\n%s", res.Stderr)
	}
	port2, _ := strconv.Atoi(m[1])
	if port2 == port1 {
		t.Errorf("restart reused port %d", port1)
	}
	if got := one(t, l, "proj")["sshLocalPort"]; got != float64(port2) {
		t.Errorf("sshLocalPort after restart = %v, want %d", got, port2)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ssh.config")); !strings.HasSuffix(string(b), "  Port "+strconv.Itoa(port2)+"\n") {
		t.Errorf("ssh.config not rewritten with port %d:\n%s", port2, b)
	}
	if res := l.SSH("proj", "true"); res.ExitCode != 0 {
		t.Errorf("ssh after restart: %s", res)
	}

	if res := l.Limactl("delete", "proj"); res.ExitCode != 1 ||
		fatalMsg(t, res.Stderr) != `failed to delete instance "proj": expected status "Stopped", got "Running"` {
		t.Errorf("delete of a running instance: %s", res)
	}
	res = l.MustLimactl("delete", "-f", "proj", "ghost")
	if !strings.Contains(res.Stderr, `level=info msg="Deleted \"proj\" (\"`+dir+`\")"`) ||
		!strings.Contains(res.Stderr, `level=warning msg="Ignoring non-existent instance \"ghost\""`) {
		t.Errorf("delete -f: %s", res)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s still exists after delete", dir)
	}
	if got := l.CountCalls("start", "--name=proj"); got != 1 {
		t.Errorf("calls.log counts %d creating starts, want 1; calls:\n%s", got, strings.Join(l.Calls(), "\n"))
	}
	if left := l.LeftoverProcesses(); len(left) > 0 {
		t.Errorf("processes left after delete: %v", left)
	}
}

func TestListNames(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	l.MustStart("b")
	l.MustLimactl("create", "--name=a", l.WriteLimaYAML("a", ""))

	res := l.Limactl("list", "-q")
	if res.ExitCode != 0 || res.Stdout != "a\nb\n" {
		t.Errorf("list -q: %s", res)
	}
	// Unmatched names (v1.2): matched ones printed, WARN, exit 1, no fatal.
	res = l.Limactl("list", "--json", "b", "nope")
	if res.ExitCode != 1 || strings.Count(res.Stdout, "\n") != 1 || !strings.Contains(res.Stdout, `"name":"b"`) ||
		!strings.Contains(res.Stderr, `level=warning msg="No instance matching nope found."`) || strings.Contains(res.Stderr, "level=fatal") {
		t.Errorf("list with an unmatched name: %s", res)
	}
	res = l.MustLimactl("list")
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^NAME\s+STATUS\s+SSH\s+CPUS\s+MEMORY\s+DISK\s+DIR$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^a\s+Stopped\s+127\.0\.0\.1:0\s+1\s+1GiB\s+4GiB\s+`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^b\s+Running\s+127\.0\.0\.1:\d+\s+`).MatchString(lines[2]) {
		t.Errorf("list table:\n%s", res.Stdout)
	}
	if res := l.Limactl("create", "--name=a", l.WriteLimaYAML("a", "")); res.ExitCode != 1 || fatalMsg(t, res.Stderr) != `instance "a" already exists` {
		t.Errorf("create of an existing instance: %s", res)
	}
}

func TestStartErrors(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	longName := strings.Repeat("n", 70) // a valid identifier, but the socket path gets too long
	tests := []struct {
		name    string
		args    []string
		yaml    string
		wantMsg string // exact fatal msg; "~" prefix means "contains"
	}{
		{"space", []string{"--name=a b"}, "", `instance name "a b" is not a valid identifier: identifier "a b" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$`},
		{"leading dash", []string{"--name=-x"}, "", `instance name "-x" is not a valid identifier: identifier "-x" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$`},
		{"double separator", []string{"--name=a..b"}, "", `~must match`},
		{"yaml suffix", []string{"--name=x.yaml"}, "", `instance name "x.yaml" must not end with .yml or .yaml suffix`},
		{"too long", []string{"--name=" + strings.Repeat("a", 77)}, "", `~greater than maximum length (76 characters)`},
		{"socket too long", []string{"--name=" + longName}, "", fmt.Sprintf(`instance name %q too long: %q must be less than UNIX_PATH_MAX=108 characters, but is %d`,
			longName, filepath.Join(l.LimaHome, longName, "ssh.sock.1234567890123456"), len(filepath.Join(l.LimaHome, longName, "ssh.sock.1234567890123456")))},
		{"bad yaml", []string{"--name=badyaml"}, "cpus: \"two\"\nimages: []\n", `~failed to unmarshal YAML (main file "` + filepath.Join(l.LimaHome, "badyaml", "lima.yaml") + `"): `},
		{"no images", []string{"--name=noimg"}, "cpus: 1\n", "field `images` must be set"},
		{"missing instance", []string{"nope"}, "-", `instance "nope" does not exist`},
		{"name mismatch", []string{"--name=x", "y"}, "-", `instance name "y" and CLI flag --name="x" cannot be specified together`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"start", "--tty=false"}, tc.args...)
			if tc.yaml != "-" {
				p := filepath.Join(l.WorkDir, "t.yaml")
				content := tc.yaml
				if content == "" {
					content = lab.MinimalLimaYAML
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, p)
			}
			res := l.Limactl(args...)
			if res.ExitCode != 1 {
				t.Fatalf("want exit 1: %s", res)
			}
			msg := fatalMsg(t, res.Stderr)
			if want, ok := strings.CutPrefix(tc.wantMsg, "~"); ok {
				if !strings.Contains(msg, want) {
					t.Errorf("fatal msg %q does not contain %q", msg, want)
				}
			} else if msg != tc.wantMsg {
				t.Errorf("fatal msg:\n got %q\nwant %q", msg, tc.wantMsg)
			}
		})
	}
	if got := l.Instances(); len(got) != 0 {
		t.Errorf("failed starts left instance directories: %v", got)
	}

	l.MustStart("dup")
	res := l.Limactl("start", "--name=dup", "--tty=false", l.WriteLimaYAML("dup", ""))
	if res.ExitCode != 1 || fatalMsg(t, res.Stderr) != fmt.Sprintf(`instance "dup" already exists (%q)`, l.InstanceDir("dup")) {
		t.Errorf("start --name of an existing instance: %s", res)
	}
	if res := l.Limactl("stop", "ghost"); res.ExitCode != 1 ||
		fatalMsg(t, res.Stderr) != "open "+filepath.Join(l.LimaHome, "ghost", "lima.yaml")+": no such file or directory" {
		t.Errorf("stop of a missing instance: %s", res)
	}
	if res := l.Limactl("stop", "-f", "dup"); res.ExitCode != 0 {
		t.Errorf("stop -f: %s", res)
	}
	if res := l.Limactl("stop", "-f", "dup"); res.ExitCode != 0 {
		t.Errorf("stop -f of a stopped instance must not fail: %s", res)
	}
}

func TestKnobs(t *testing.T) {
	t.Run("start fail", func(t *testing.T) {
		l := lab.New(t, lab.GuestZellij())
		l.Setenv("FAKELIMA_START_FAIL=1")
		res := l.Limactl("start", "--name=f", "--tty=false", l.WriteLimaYAML("f", ""))
		if res.ExitCode != 1 {
			t.Fatalf("want exit 1: %s", res)
		}
		msg := fatalMsg(t, res.Stderr)
		hint := fmt.Sprintf("(hint: see %q)", filepath.Join(l.InstanceDir("f"), "ha.stderr.log"))
		if !strings.HasPrefix(msg, "exiting, status={Running:false Degraded:false Exiting:true Errors:[") || !strings.HasSuffix(msg, hint) {
			t.Errorf("fatal msg = %q", msg)
		}
		if got := one(t, l, "f")["status"]; got != "Stopped" {
			t.Errorf("status after a failed start = %v", got)
		}
	})
	t.Run("hang and timeout", func(t *testing.T) {
		l := lab.New(t, lab.GuestZellij())
		l.Setenv("FAKELIMA_START_HANG=1")
		begin := time.Now()
		res := l.Limactl("start", "--name=h", "--tty=false", "--timeout=2s", l.WriteLimaYAML("h", ""))
		if res.ExitCode != 1 || fatalMsg(t, res.Stderr) != `did not receive an event with the "running" status` {
			t.Errorf("start with FAKELIMA_START_HANG: %s", res)
		}
		if d := time.Since(begin); d < 2*time.Second || d > 20*time.Second {
			t.Errorf("start returned after %v, want about --timeout=2s", d)
		}
		// Like Lima, the VM keeps running after the timeout.
		if got := one(t, l, "h")["status"]; got != "Running" {
			t.Errorf("status after the start timeout = %v", got)
		}
		l.MustLimactl("stop", "-f", "h")
	})
	t.Run("leave broken", func(t *testing.T) {
		l := lab.New(t, lab.GuestZellij())
		l.Setenv("FAKELIMA_LEAVE_BROKEN=1")
		res := l.Limactl("start", "--name=b", "--tty=false", l.WriteLimaYAML("b", ""))
		if res.ExitCode != 1 {
			t.Fatalf("want exit 1: %s", res)
		}
		res = l.Limactl("list", "--json", "b")
		if res.ExitCode != 0 || !strings.Contains(res.Stdout, `"status":"Broken"`) || !strings.Contains(res.Stdout, `"errors":[{}]`) ||
			!strings.Contains(res.Stderr, `level=warning msg="instance \"b\" has errors" errors="[host agent is running but driver is not]"`) {
			t.Errorf("list of a broken instance: %s", res)
		}
		if res := l.Limactl("start", "b"); res.ExitCode != 1 ||
			fatalMsg(t, res.Stderr) != "errors inspecting instance: [host agent is running but driver is not]" {
			t.Errorf("start of a broken instance: %s", res)
		}
		if res := l.Limactl("stop", "b"); res.ExitCode != 1 || !strings.Contains(fatalMsg(t, res.Stderr), `got "Broken"`) {
			t.Errorf("graceful stop of a broken instance: %s", res)
		}
		l.MustLimactl("stop", "-f", "b")
		if got := one(t, l, "b")["status"]; got != "Stopped" {
			t.Errorf("status after stop -f = %v", got)
		}
	})
	t.Run("boot delay and FAKELIMA_ONLY", func(t *testing.T) {
		l := lab.New(t, lab.GuestZellij())
		l.Setenv("FAKELIMA_BOOT_DELAY=1500ms", "FAKELIMA_ONLY=slow")
		begin := time.Now()
		res := l.MustLimactl("start", "--name=fast", "--tty=false", l.WriteLimaYAML("fast", ""))
		if d := time.Since(begin); d > 1500*time.Millisecond {
			t.Errorf("FAKELIMA_ONLY=slow still delayed instance fast (%v)", d)
		}
		begin = time.Now()
		res = l.MustLimactl("start", "--name=slow", "--tty=false", l.WriteLimaYAML("slow", ""))
		if d := time.Since(begin); d < 1500*time.Millisecond {
			t.Errorf("boot delay not applied: start took %v", d)
		}
		if strings.Count(res.Stderr, `[hostagent] Waiting for the essential requirement 1 of 2: \"ssh\"`) < 2 {
			t.Errorf("no boot progress lines propagated:\n%s", res.Stderr)
		}
	})
}

func TestBrokenWhenHostAgentDies(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	l.MustStart("x")
	if err := l.KillHostAgent("x"); err != nil {
		t.Fatal(err)
	}
	res := l.Limactl("list", "--json", "x")
	if !strings.Contains(res.Stdout, `"status":"Broken"`) || strings.Contains(res.Stdout, `"hostAgentPID"`) ||
		!strings.Contains(res.Stderr, `errors="[qemu driver is running but host agent is not]"`) {
		t.Errorf("list after the hostagent died: %s", res)
	}
	if _, err := os.Stat(filepath.Join(l.InstanceDir("x"), "ha.pid")); err == nil {
		t.Error("stale ha.pid of a dead hostagent was not removed by list")
	}
	l.MustLimactl("stop", "-f", "x")
	if got := one(t, l, "x")["status"]; got != "Stopped" {
		t.Errorf("status after stop -f = %v", got)
	}
}

func TestTwoInstancesAndDroppedLink(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	var wg sync.WaitGroup
	results := make([]lab.Result, 2)
	for i, n := range []string{"one", "two"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = l.Limactl("start", "--name="+n, "--tty=false", "--timeout=60s", l.WriteLimaYAML(n, ""))
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.ExitCode != 0 {
			t.Fatalf("start #%d: %s", i, r)
		}
	}
	insts := listed(t, l)
	if len(insts) != 2 || insts[0]["status"] != "Running" || insts[1]["status"] != "Running" ||
		insts[0]["sshLocalPort"] == insts[1]["sshLocalPort"] {
		t.Fatalf("two running instances with distinct ports expected: %v", insts)
	}
	for _, n := range []string{"one", "two"} {
		if res := l.SSH(n, "echo", "$FAKELIMA_INSTANCE"); res.ExitCode != 0 || strings.TrimSpace(res.Stdout) != n {
			t.Errorf("ssh %s: %s", n, res)
		}
	}

	// A dropped link kills live sessions but not the VM.
	cmd := l.Command("ssh", "-F", l.SSHConfig("one"), "lima-one", "--", "sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(300 * time.Millisecond)
	n, err := l.DropConnections("one")
	if err != nil || n == 0 {
		t.Fatalf("DropConnections: n=%d err=%v", n, err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("the ssh session survived a dropped link")
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the ssh session did not end after the link dropped")
	}
	if res := l.SSH("one", "true"); res.ExitCode != 0 {
		t.Errorf("reconnect after a dropped link: %s", res)
	}
	if res := l.SSH("two", "true"); res.ExitCode != 0 {
		t.Errorf("instance two affected by dropping one's link: %s", res)
	}
	if got := one(t, l, "one")["status"]; got != "Running" {
		t.Errorf("status after a dropped link = %v", got)
	}
}

func TestStopKillsGuestProcesses(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	l.MustStart("g")
	res := l.SSH("g", "nohup sleep 1000 >/dev/null 2>&1 & echo $!")
	pid, err := strconv.Atoi(strings.TrimSpace(res.Stdout))
	if err != nil {
		t.Fatalf("start a guest daemon: %s", res)
	}
	// The zellij stand-in's tmux server in the guest.
	if res := l.SSH("g", "zellij", "attach", "--create-background", "work"); res.ExitCode != 0 {
		t.Fatalf("zellij attach -b in the guest: %s", res)
	}
	out := l.GuestTmux("g", "display-message", "-p", "-t", "=work", "#{pid}")
	tmuxPid, err := strconv.Atoi(strings.TrimSpace(out.Stdout))
	if err != nil {
		t.Fatalf("tmux server pid: %s", out)
	}
	if !procs.Alive(pid) || !procs.Alive(tmuxPid) {
		t.Fatal("guest processes not running before stop")
	}
	l.MustLimactl("stop", "g")
	if procs.Alive(pid) || procs.Alive(tmuxPid) {
		t.Errorf("guest processes survived stop: sleep alive=%v tmux alive=%v", procs.Alive(pid), procs.Alive(tmuxPid))
	}
	// After a restart the dead session shows as EXITED, like a serialized
	// Zellij session after a VM reboot.
	l.MustLimactl("start", "g")
	if res := l.SSH("g", "zellij", "ls", "-n"); !regexp.MustCompile(`^work \[Created \S+ ago\] \(EXITED - attach to resurrect\)\n$`).MatchString(res.Stdout) {
		t.Errorf("zellij ls -n after restart: %s", res)
	}
}

func TestValidate(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	good := l.WriteLimaYAML("good", "")
	bad := filepath.Join(l.WorkDir, "noimg.yaml")
	if err := os.WriteFile(bad, []byte("cpus: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := l.MustLimactl("validate", good); !strings.Contains(res.Stderr, `level=info msg="\"`+good+`\": OK"`) {
		t.Errorf("validate: %s", res)
	}
	if res := l.Limactl("validate", bad); res.ExitCode != 1 ||
		fatalMsg(t, res.Stderr) != fmt.Sprintf("failed to validate YAML file %q: field `images` must be set", bad) {
		t.Errorf("validate without images: %s", res)
	}
}

func TestUnitHelpers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"proj", "lima-proj"}, {"a.b_c", "lima-a-b-c"},
	} {
		if got := hostnameFor(tc.in); got != tc.want {
			t.Errorf("hostnameFor(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{{"2GiB", 2 << 30}, {"4G", 4 << 30}, {"512MiB", 512 << 20}, {"100GiB", 100 << 30}} {
		if got, err := ramInBytes(tc.in); err != nil || got != tc.want {
			t.Errorf("ramInBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	if got := bytesSize(2 << 30); got != "2GiB" {
		t.Errorf("bytesSize(2GiB) = %q", got)
	}
	for _, tc := range []struct{ in, want string }{
		{"SSH Local Port: 1", `"SSH Local Port: 1"`}, {"OK", "OK"}, {`a"b`, `"a\"b"`},
	} {
		if got := logrusValue(tc.in); got != tc.want {
			t.Errorf("logrusValue(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// ptyProc is a command running on a pseudo terminal with its output
// collected.
type ptyProc struct {
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func startOnPTY(t *testing.T, cmd *exec.Cmd) *ptyProc {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatalf("start %v on a pty: %v", cmd.Args, err)
	}
	p := &ptyProc{done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = f.Close()
	})
	return p
}

func (p *ptyProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *ptyProc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		time.Sleep(100 * time.Millisecond) // let the reader drain
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("process did not exit; output:\n%q", p.output())
		return nil
	}
}

func waitGuestClient(t *testing.T, l *lab.Lab, inst, session string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res := l.GuestTmux(inst, "list-clients", "-t", "="+session, "-F", "#{client_pid}")
		if res.ExitCode == 0 && strings.TrimSpace(res.Stdout) != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no client attached to %s in %s: %s", session, inst, res)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestZellijInGuestOverSSH is the flow sysvm relies on: an SSH session with
// a PTY runs the zellij stand-in in the fake VM; a dropped link kills the
// client but not the session; a new SSH session reattaches and detaches.
func TestZellijInGuestOverSSH(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	l.MustStart("z")
	layout := filepath.Join(l.WorkDir, "z.kdl")
	if err := os.WriteFile(layout, []byte("layout {\n    cwd \""+l.WorkDir+"\"\n    tab name=\"main\" { pane; }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	attach := func() *ptyProc {
		cmd := l.Command("ssh", "-tt", "-F", l.SSHConfig("z"), "lima-z", "--", "zellij", "--layout", layout, "attach", "--create", "z")
		cmd.Env = append(cmd.Env, "TERM=xterm-256color")
		return startOnPTY(t, cmd)
	}

	p := attach()
	waitGuestClient(t, l, "z", "z")
	if n, err := l.DropConnections("z"); err != nil || n == 0 {
		t.Fatalf("DropConnections: n=%d err=%v", n, err)
	}
	if err := p.wait(t); err == nil {
		t.Errorf("ssh exited 0 although its link dropped; output %q", p.output())
	}
	res := l.SSH("z", "zellij", "ls", "-n")
	if !regexp.MustCompile(`^z \[Created \d+s ago\] \n$`).MatchString(res.Stdout) {
		t.Errorf("session did not survive the dropped link: %s", res)
	}
	if b, err := os.ReadFile(filepath.Join(l.GuestDir("z"), "sessions", "z", "layout")); err != nil || string(b) != layout+"\n" {
		t.Errorf("recorded layout = %q, %v", b, err)
	}

	p = attach()
	waitGuestClient(t, l, "z", "z")
	if res := l.GuestTmux("z", "detach-client", "-s", "=z"); res.ExitCode != 0 {
		t.Fatalf("detach-client: %s", res)
	}
	if err := p.wait(t); err != nil || !strings.Contains(p.output(), "Session detached") {
		t.Errorf("reattach + detach: err=%v output %q", err, p.output())
	}
}
