package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/term"
	"gopkg.in/yaml.v3"
)

// report prints a figure for test/report.sh to collect.
func report(t testing.TB, key string, n int) { t.Logf("REPORT %s=%d", key, n) }

func TestThreeTerminalsNoCrossTalk(t *testing.T) {
	e := newEnv(t)
	names := []string{"red", "green", "blue"}
	terms := make([]*term.Term, len(names))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, n := range names {
		dir := e.layoutProject(n)
		wg.Add(1)
		go func(i int, dir string) {
			defer wg.Done()
			c := e.cmd(dir, "attach")
			tm := term.Start(t, c)
			mu.Lock()
			terms[i] = tm
			mu.Unlock()
		}(i, dir)
	}
	wg.Wait()
	for i, n := range names {
		answer(t, terms[i], "echo I-am-$PROJECT_NAME-in-$ZELLIJ_SESSION_NAME", "I-am-"+n+"-in-"+n, 60*time.Second)
	}
	for i, n := range names {
		out := terms[i].Output()
		for _, other := range names {
			if other != n && strings.Contains(out, "I-am-"+other) {
				t.Errorf("terminal of %s shows %s's output", n, other)
			}
		}
		if code := detach(t, terms[i]); code != 0 {
			t.Errorf("%s: detach exit %d", n, code)
		}
	}
	report(t, "concurrent_attaches", len(names))
}

func TestDestroyWhileAttached(t *testing.T) {
	e := newEnv(t)
	dir := e.layoutProject("doomed")
	tm := e.attach(dir, nil)
	e.ok(dir, "destroy", "--yes")
	code := tm.ExitCode(60 * time.Second)
	out := tm.Output()
	if code != 1 || !strings.Contains(out, "doomed-dev no longer exists") {
		t.Errorf("the attached terminal: exit %d, want 1 with a clear error:\n%s", code, out)
	}
	if insts := e.Instances(); len(insts) != 0 {
		t.Errorf("instances left after destroy: %v", insts)
	}
	if e.creates("doomed-dev") != 1 {
		t.Errorf("the attached terminal recreated the VM: %d creates", e.creates("doomed-dev"))
	}
}

// TestCtrlCDuringCreate: while a VM boots, up and attach show its progress,
// and Ctrl-C returns at once while the VM keeps booting; up then completes.
func TestCtrlCDuringCreate(t *testing.T) {
	for _, cmd := range []string{"up", "attach"} {
		t.Run(cmd, func(t *testing.T) {
			e := newEnv(t)
			dir := e.layoutProject("interrupted")
			c := e.cmd(dir, cmd)
			c.Env = append(c.Env, "FAKELIMA_BOOT_DELAY=4s")
			tm := term.Start(t, c)
			tm.Wait(`creating interrupted-dev \([0-9]+s\)`, 20*time.Second)
			start := time.Now()
			tm.Write("\x03")
			if code := tm.ExitCode(10 * time.Second); code != 130 {
				t.Errorf("Ctrl-C: exit %d, want 130", code)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Ctrl-C took %s to return", d)
			}
			if !strings.Contains(tm.Output(), "keeps booting in the background") {
				t.Errorf("no word on the VM that keeps booting:\n%s", tm.Output())
			}
			r := e.ok(dir, "up")
			if s := e.status(dir); s.State != "Running" {
				t.Errorf("after up again: %+v\n%s", s, r)
			}
			if n := e.creates("interrupted-dev"); n != 1 {
				t.Errorf("%d creates, want 1", n)
			}
			report(t, "faults_survived", 1)
		})
	}
}

func TestBrokenSSHSetup(t *testing.T) {
	e := newEnv(t)
	dir := e.project("sshfaults", "")
	e.ok(dir, "up")
	cfg := e.SSHConfig("sshfaults-dev")
	orig, _ := os.ReadFile(cfg)
	key := filepath.Join(e.LimaHome, "_config", "user")
	origKey, _ := os.ReadFile(key)
	for _, tt := range []struct {
		name   string
		break_ func()
		want   string
	}{
		{"missing ssh.config", func() { os.Remove(cfg) }, "sysvm stop && sysvm up"},
		{"garbled ssh.config", func() { os.WriteFile(cfg, []byte("Host\n\x00garbage"), 0o600) }, "ssh config"},
		{"garbled identity", func() { os.WriteFile(key, []byte("not a key"), 0o600) }, "SSH key"},
		{"missing identity", func() { os.Remove(key) }, "SSH key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.break_()
			defer os.WriteFile(cfg, orig, 0o600)
			defer os.WriteFile(key, origKey, 0o600)
			for _, m := range modes {
				c := e.cmd(dir, "shell", "--", "true")
				c.Env = append(c.Env, m.env...)
				r := runCmd(c)
				if r.ExitCode == 0 || !strings.Contains(r.Stderr, tt.want) || !strings.Contains(r.Stderr, "hint:") {
					t.Errorf("%s: %s", m.name, r)
				}
			}
		})
	}
	e.ok(dir, "shell", "--", "true")
	report(t, "faults_survived", 4)
}

func TestStateDirFaults(t *testing.T) {
	e := newEnv(t)
	dir := e.project("statefault", "")
	// State under a path that cannot be a directory (root ignores modes).
	f := filepath.Join(e.Root, "plainfile")
	os.WriteFile(f, nil, 0o600)
	c := e.cmd(dir, "up")
	c.Env = append(c.Env, "XDG_STATE_HOME="+f)
	r := runCmd(c)
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "state directory") || !strings.Contains(r.Stderr, "SYSVM_STATE_DIR") {
		t.Errorf("unwritable state: %s", r)
	}
	if os.Geteuid() != 0 {
		t.Log("full-disk case needs root to mount a small tmpfs; skipped outside CI")
		return
	}
	// A full state directory: the write fails cleanly and the old record survives.
	full := filepath.Join(e.Root, "full")
	os.MkdirAll(full, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", full).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	defer exec.Command("umount", "-l", full).Run()
	c = e.cmd(dir, "up")
	c.Env = append(c.Env, "SYSVM_STATE_DIR="+full)
	if r := runCmd(c); r.ExitCode != 0 {
		t.Fatalf("up with a small state dir: %s", r)
	}
	rec := filepath.Join(full, "projects", "statefault-dev.json")
	before, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	exec.Command("dd", "if=/dev/zero", "of="+filepath.Join(full, "filler"), "bs=4k").Run()
	c = e.cmd(dir, "up")
	c.Env = append(c.Env, "SYSVM_STATE_DIR="+full)
	r = runCmd(c)
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "no space left") {
		t.Errorf("full state dir: %s", r)
	}
	if after, _ := os.ReadFile(rec); string(after) != string(before) {
		t.Errorf("the record was damaged by a failed write:\n%s\nwas\n%s", after, before)
	}
	leftovers, _ := filepath.Glob(filepath.Join(full, "projects", ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	report(t, "faults_survived", 2)
}

func TestSecurityDefaults(t *testing.T) {
	e := newEnv(t)
	dir := e.project("secure", "")
	e.ok(dir, "up")
	e.ok(dir, "shell", "--", "true")
	// State files 0600, state directories 0700.
	root := filepath.Join(e.StateHome, "sysvm")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := os.Lstat(p)
		switch {
		case info.Mode()&os.ModeSymlink != 0, info.Mode()&os.ModeSocket != 0:
		case d.IsDir() && info.Mode().Perm() != 0o700:
			t.Errorf("%s: mode %v, want 0700", p, info.Mode().Perm())
		case !d.IsDir() && info.Mode().Perm() != 0o600:
			t.Errorf("%s: mode %v, want 0600", p, info.Mode().Perm())
		}
		return nil
	})
	// Nothing but the project is mounted, and no key is loaded into the VM.
	cfg, _ := os.ReadFile(filepath.Join(dir, ".lima", "config.yaml"))
	var c struct {
		Mounts []struct{ Location string }
		SSH    struct {
			LoadDotSSHPubKeys bool `yaml:"loadDotSSHPubKeys"`
			ForwardAgent      bool `yaml:"forwardAgent"`
		}
	}
	if err := yaml.Unmarshal(cfg, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Mounts) != 1 || c.Mounts[0].Location != dir || c.SSH.LoadDotSSHPubKeys || c.SSH.ForwardAgent {
		t.Errorf("unsafe defaults in the generated config: %+v", c)
	}
	// The agent is forwarded only when configured.
	sock := "SSH_AUTH_SOCK=" + e.startAgent(t, "hardening-key")
	for _, m := range modes {
		c := e.cmd(dir, "shell", "--", "sh", "-c", "echo sock=${SSH_AUTH_SOCK:-none}")
		c.Env = append(c.Env, append(m.env, sock)...)
		if r := runCmd(c); !strings.Contains(r.Stdout, "sock=none") {
			t.Errorf("%s: agent forwarded without being asked: %s", m.name, r)
		}
	}
	fwd := e.project("fwd", "forwardAgent: true\n")
	e.ok(fwd, "up")
	for _, m := range modes {
		c := e.cmd(fwd, "shell", "--", "sh", "-c", "ssh-add -l; echo rc=$?")
		c.Env = append(c.Env, append(m.env, sock)...)
		// The forwarded agent lists its key (exit 0); without forwarding
		// ssh-add cannot connect at all (exit 2).
		if r := runCmd(c); !strings.Contains(r.Stdout, "hardening-key") || !strings.Contains(r.Stdout, "rc=0") {
			t.Errorf("%s: agent not forwarded when configured: %s", m.name, r)
		}
	}
}

// TestNoTelemetry: sysvm's only HTTP client is the one that downloads the
// pinned Zellij release (package zellij/release, from the release's or the
// configured mirror's URL); no other package of sysvm's reaches for HTTP, and
// nothing links a telemetry or mail package.
func TestNoTelemetry(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/sysvm/sysvm/cmd/sysvm").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "telemetry") || pkg == "net/smtp" {
			t.Errorf("sysvm links %s", pkg)
		}
	}
	out, err = exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/sysvm/sysvm/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.Contains(f[0], "/test/") || strings.HasSuffix(f[0], "/releasetest") {
			continue // test infrastructure serves HTTP on loopback
		}
		for _, imp := range f[1:] {
			if (imp == "net/http" || strings.HasPrefix(imp, "net/http/")) && f[0] != "github.com/sysvm/sysvm/zellij/release" {
				t.Errorf("%s imports %s", f[0], imp)
			}
		}
	}
}
