package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	dir := e.project("web", "cpus: 2\n")
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("work\n"), 0o644)

	if s := e.status(dir); s.State != "NotCreated" || s.VM != "web-dev" || s.Project != "web" || s.Session != "web" {
		t.Fatalf("status before up = %+v", s)
	}
	r := e.ok(dir, "up")
	if !strings.Contains(r.Stderr, "web-dev is Running") {
		t.Errorf("up did not say the VM runs: %q", r.Stderr)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, ".lima", "config.yaml"))
	if err != nil || !strings.Contains(string(cfg), "cpus: 2") {
		t.Fatalf("up did not write the config: %v\n%s", err, cfg)
	}
	if n := e.creates("web-dev"); n != 1 {
		t.Errorf("creates = %d, want 1 (calls: %q)", n, e.Calls())
	}
	s := e.status(dir)
	if s.State != "Running" || s.SSHPort == 0 || s.ConfigEdited {
		t.Fatalf("status after up = %+v", s)
	}
	// up again: nothing to do, no limactl start.
	before := len(e.Calls())
	e.ok(dir, "up")
	for _, c := range e.Calls()[before:] {
		if strings.HasPrefix(c, "start") {
			t.Errorf("up of a running VM ran %q", c)
		}
	}
	// From a subdirectory, the same project.
	sub := filepath.Join(dir, "src", "pkg")
	os.MkdirAll(sub, 0o755)
	if s := e.status(sub); s.VM != "web-dev" || s.Dir != dir {
		t.Errorf("status from a subdirectory = %+v", s)
	}

	e.ok(dir, "stop")
	if s := e.status(dir); s.State != "Stopped" {
		t.Fatalf("status after stop = %+v", s)
	}
	r = e.ok(dir, "stop")
	if !strings.Contains(r.Stderr, "already stopped") {
		t.Errorf("second stop: %q", r.Stderr)
	}
	e.ok(dir, "up")
	s2 := e.status(dir)
	if s2.State != "Running" || s2.SSHPort == s.SSHPort {
		t.Errorf("after restart: %+v (old port %d), want a new port", s2, s.SSHPort)
	}

	// list knows the project.
	var list []struct{ Project, VM, State, Dir string }
	r = e.ok(dir, "list", "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil || len(list) != 1 || list[0].State != "Running" || list[0].Dir != dir {
		t.Errorf("list --json = %s (%v)", r.Stdout, err)
	}
	// status and attach by name from anywhere.
	if s := e.status(e.Root); s.VM == "web-dev" {
		t.Error("status outside any project should not pick web")
	}
	r = e.ok(e.Root, "status", "web", "--json")
	if !strings.Contains(r.Stdout, `"vm": "web-dev"`) {
		t.Errorf("status by name: %s", r.Stdout)
	}

	// destroy without --yes and without a terminal refuses.
	r = e.run(dir, "destroy")
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "--yes") {
		t.Errorf("destroy without --yes: %s", r)
	}
	e.ok(dir, "destroy", "--yes")
	if s := e.status(dir); s.State != "NotCreated" {
		t.Errorf("status after destroy = %+v", s)
	}
	lost := 0
	for _, f := range []string{notes, filepath.Join(dir, "sysvm.yaml"), filepath.Join(dir, ".lima", "config.yaml")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("destroy touched the project: %v", err)
			lost++
		}
	}
	if b, _ := os.ReadFile(notes); string(b) != "work\n" {
		t.Errorf("notes changed: %q", b)
		lost++
	}
	report(t, "files_lost", lost)
}

func TestConcurrentUpCreatesOnce(t *testing.T) {
	e := newEnv(t)
	e.Setenv("FAKELIMA_BOOT_DELAY=1s")
	dir := e.project("busy", "")
	const n = 10
	var wg sync.WaitGroup
	results := make([]string, n)
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.run(dir, "up")
			codes[i], results[i] = r.ExitCode, r.String()
		}(i)
	}
	wg.Wait()
	ok := 0
	for i := range codes {
		if codes[i] != 0 {
			t.Errorf("up #%d failed: %s", i, results[i])
		} else {
			ok++
		}
	}
	report(t, "concurrent_ups", ok)
	if c := e.creates("busy-dev"); c != 1 {
		t.Errorf("%d creates, want exactly 1; calls:\n%s", c, strings.Join(e.Calls(), "\n"))
	}
	if s := e.status(dir); s.State != "Running" {
		t.Errorf("status = %+v", s)
	}
}

func TestThreeProjectsAtOnce(t *testing.T) {
	e := newEnv(t)
	dirs := []string{e.project("alpha", ""), e.project("beta", ""), e.project("gamma", "")}
	var wg sync.WaitGroup
	errs := make([]string, len(dirs))
	for i, d := range dirs {
		wg.Add(1)
		go func(i int, d string) {
			defer wg.Done()
			if r := e.run(d, "up"); r.ExitCode != 0 {
				errs[i] = r.String()
			}
		}(i, d)
	}
	wg.Wait()
	for _, s := range errs {
		if s != "" {
			t.Fatal(s)
		}
	}
	ports := map[int]bool{}
	for _, d := range dirs {
		s := e.status(d)
		if s.State != "Running" || ports[s.SSHPort] {
			t.Errorf("%s: %+v", d, s)
		}
		ports[s.SSHPort] = true
	}
	r := e.ok(e.Root, "list")
	for _, name := range []string{"alpha", "beta", "gamma"} {
		if !strings.Contains(r.Stdout, name+"-dev") {
			t.Errorf("list lacks %s:\n%s", name, r.Stdout)
		}
	}
	e.ok(dirs[1], "stop")
	if s := e.status(dirs[0]); s.State != "Running" {
		t.Errorf("stopping beta stopped alpha: %+v", s)
	}
}

func TestTrickyDirectoryNames(t *testing.T) {
	e := newEnv(t)
	seen := map[string]string{}
	for _, name := range []string{"My App ü", "it's \"quoted\" $x", "x.yaml", "2048", strings.Repeat("long", 50)} {
		dir := filepath.Join(e.Root, "p", name)
		os.MkdirAll(dir, 0o755)
		s := e.status(dir)
		if other, dup := seen[s.VM]; dup {
			t.Errorf("%q and %q share %s", other, name, s.VM)
		}
		seen[s.VM] = name
		if again := e.status(dir); again.VM != s.VM {
			t.Errorf("%q: not stable: %s then %s", name, s.VM, again.VM)
		}
	}
	// One of them really boots and is reachable.
	dir := filepath.Join(e.Root, "p", "it's \"quoted\" $x")
	e.ok(dir, "up")
	r := e.ok(dir, "shell", "--", "pwd")
	if strings.TrimSpace(r.Stdout) != dir {
		t.Errorf("pwd in the VM = %q, want %q", r.Stdout, dir)
	}
}

func TestConfigCommandAndEditedConfig(t *testing.T) {
	e := newEnv(t)
	dir := e.project("cfg", "memory: 6GiB\nports: [3000]\n")
	r := e.ok(dir, "config", "--cpus", "3")
	for _, want := range []string{"cpus: 3", "memory: 6GiB", "guestPort: 3000", "PROJECT_NAME: cfg"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("config lacks %q:\n%s", want, r.Stdout)
		}
	}
	// VM_CPUS in the environment beats sysvm.yaml; the flag beats both.
	c := e.cmd(dir, "config")
	c.Env = append(c.Env, "VM_CPUS=5")
	if out, _ := c.Output(); !strings.Contains(string(out), "cpus: 5") {
		t.Errorf("VM_CPUS=5 not applied:\n%s", out)
	}
	// An edited config is used as it is, and status says so.
	e.ok(dir, "up")
	path := filepath.Join(dir, ".lima", "config.yaml")
	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), "cpus: 4", "cpus: 1", 1)
	os.WriteFile(path, []byte(edited), 0o644)
	e.allow(dir)
	if s := e.status(dir); !s.ConfigEdited {
		t.Errorf("status does not report the edited config: %+v", s)
	}
	r = e.ok(dir, "status")
	if !strings.Contains(r.Stdout, "edited") {
		t.Errorf("status text lacks the edit note:\n%s", r.Stdout)
	}
	e.ok(dir, "up")
	if got, _ := os.ReadFile(path); string(got) != edited {
		t.Error("up overwrote the user's config")
	}
}

func TestPortClaimedByAnotherProject(t *testing.T) {
	e := newEnv(t)
	a := e.project("porta", "ports: [31337]\n")
	b := e.project("portb", "ports: [\"31337:80\"]\n")
	e.ok(a, "up")
	r := e.run(b, "up")
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "port 31337 is already forwarded by the running VM porta-dev") || !strings.Contains(r.Stderr, "sysvm stop porta") {
		t.Fatalf("want the clash reported before boot: %s", r)
	}
	if e.creates("portb-dev") != 0 {
		t.Error("the clashing VM was created anyway")
	}
	e.ok(a, "stop")
	e.ok(b, "up")
}

func TestUpBackground(t *testing.T) {
	e := newEnv(t)
	// The fake VM lists as Running while it boots, but its SSH answers only
	// after the boot delay: returning well before that is not waiting.
	const bootDelay = 8 * time.Second
	e.Setenv("FAKELIMA_BOOT_DELAY=" + bootDelay.String())
	dir := e.project("bg", "")
	began := time.Now()
	r := e.ok(dir, "up", "--background")
	if d := time.Since(began); d > bootDelay/2 {
		t.Errorf("up --background took %s: it waited for the boot (%s)", d, bootDelay)
	}
	if !strings.Contains(r.Stderr, "in the background (log: ") {
		t.Errorf("no word on the background start: %s", r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.status(dir).State != "Running" {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(e.StateHome, "sysvm", "logs", "bg-dev.up.log"))
			t.Fatalf("the background up never finished; its log:\n%s", log)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if n := e.creates("bg-dev"); n != 1 {
		t.Errorf("creates = %d", n)
	}
}
