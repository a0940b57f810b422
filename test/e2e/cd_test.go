package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxDriver drives real shells in a private tmux server, as a person would:
// send-keys to type, capture-pane to read the screen.
type tmuxDriver struct {
	t    *testing.T
	sock string
	env  []string
}

func (e *env) tmux(t *testing.T) *tmuxDriver {
	// The shells stand for a person's terminal: CI's own CI=true must not
	// reach them (the hook rightly never enters with CI set).
	var userEnv []string
	for _, kv := range e.Env() {
		if !strings.HasPrefix(kv, "CI=") {
			userEnv = append(userEnv, kv)
		}
	}
	d := &tmuxDriver{t: t, sock: filepath.Join(e.Root, "drv.sock"), env: userEnv}
	t.Cleanup(func() { exec.Command("tmux", "-S", d.sock, "kill-server").Run() })
	return d
}

func (d *tmuxDriver) run(args ...string) string {
	d.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", d.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// open starts shell in a new window named name, in dir, and loads its rc
// file.
func (d *tmuxDriver) open(name, dir string, sh shell) {
	d.t.Helper()
	cmd := append([]string{"env", "-i"}, d.env...)
	cmd = append(cmd, "TERM=xterm-256color", "LANG=C.UTF-8")
	cmd = append(cmd, sh.argv...)
	args := []string{"-x", "160", "-y", "50", "-c", dir, "-n", name}
	if _, err := os.Stat(d.sock); err != nil {
		d.run(append(append([]string{"new-session", "-d", "-s", "drv"}, args...), cmd...)...)
	} else {
		d.run(append(append([]string{"new-window", "-d", "-t", "drv:"}, args[4:]...), cmd...)...)
	}
	d.typeLine(name, "source "+shellQuote(sh.rc))
	d.waitFor(name, `host\$ $`, 20*time.Second)
}

// screen returns the visible text of window name.
func (d *tmuxDriver) screen(name string) string {
	return d.run("capture-pane", "-p", "-J", "-t", "drv:"+name)
}

// typeLine types text and Enter into window name.
func (d *tmuxDriver) typeLine(name, text string) {
	d.t.Helper()
	d.run("send-keys", "-t", "drv:"+name, "-l", text)
	d.run("send-keys", "-t", "drv:"+name, "Enter")
}

// waitFor waits until the screen of window name matches re (multi-line).
func (d *tmuxDriver) waitFor(name, re string, timeout time.Duration) string {
	d.t.Helper()
	rx := regexp.MustCompile("(?m)" + re)
	deadline := time.Now().Add(timeout)
	for {
		s := d.screen(name)
		if m := rx.FindString(s); m != "" {
			return m
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("window %s: no %q within %s; screen:\n%s", name, re, timeout, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ask types cmd (again every few seconds) until want is on the screen.
func (d *tmuxDriver) ask(name, cmd, want string, timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d.typeLine(name, cmd)
		for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if strings.Contains(d.screen(name), want) {
				return
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("window %s: no %q after typing %q; screen:\n%s", name, want, cmd, d.screen(name))
		}
	}
}

// clear empties a window's screen and history so old text cannot match.
func (d *tmuxDriver) clear(name string) {
	d.run("send-keys", "-t", "drv:"+name, "-R")
	d.run("clear-history", "-t", "drv:"+name)
}

// detach presses Zellij's detach key, Ctrl-o d, and waits for the host prompt.
func (d *tmuxDriver) detach(name string) {
	d.t.Helper()
	d.run("send-keys", "-t", "drv:"+name, "C-o", "d")
	d.waitFor(name, `Session detached`, 20*time.Second)
	d.waitFor(name, `host\$ $`, 10*time.Second)
}

// leaveAndReturn leaves the directory at one prompt and comes back at the
// next: direnv, and so the hook, look only at prompts.
func (d *tmuxDriver) leaveAndReturn(name string) {
	d.t.Helper()
	d.typeLine(name, "cd ..")
	d.waitFor(name, `unloading`, 10*time.Second)
	d.typeLine(name, "cd -")
}

// shell is an interactive shell that reads no startup file of its own (so
// none of the machine's, such as /etc/bash.bashrc or /etc/zsh/zshrc; zsh
// still reads /etc/zsh/zshenv, which cannot be skipped) and the rc file the
// test wrote for it, which open sources.
type shell struct {
	argv []string
	rc   string
}

// shellSetup writes each shell's rc file: direnv's hook, then sysvm's.
func (e *env) shellSetup(t *testing.T) map[string]shell {
	hooks := map[string]string{
		".bashrc": "eval \"$(direnv hook bash)\"\neval \"$(" + e.sysvm + " hook bash)\"\nPS1='host$ '\n",
		".zshrc":  "eval \"$(direnv hook zsh)\"\neval \"$(" + e.sysvm + " hook zsh)\"\nPS1='host$ '\n",
	}
	for f, body := range hooks {
		if err := os.WriteFile(filepath.Join(e.Home, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fishDir := filepath.Join(e.ConfigHome, "fish")
	os.MkdirAll(fishDir, 0o755)
	os.WriteFile(filepath.Join(fishDir, "config.fish"), []byte("direnv hook fish | source\n"+e.sysvm+
		" hook fish | source\nfunction fish_prompt; echo -n 'host$ '; end\nfunction fish_greeting; end\n"), 0o644)
	e.ok(e.Root, "direnvrc", "--install")
	return map[string]shell{
		"bash": {[]string{"bash", "--norc", "--noprofile", "-i"}, filepath.Join(e.Home, ".bashrc")},
		"zsh":  {[]string{"zsh", "--no-rcs", "-i"}, filepath.Join(e.Home, ".zshrc")},
		"fish": {[]string{"fish", "--no-config", "-i"}, filepath.Join(fishDir, "config.fish")},
	}
}

// direnvProject is a project with `use sysvm` in its .envrc and a layout
// whose first tab is a shell.
func (e *env) direnvProject(name string) string {
	dir := filepath.Join(e.Root, "p", name)
	os.MkdirAll(filepath.Join(dir, ".sysvm"), 0o755)
	os.WriteFile(filepath.Join(dir, ".sysvm", "layout.kdl"), []byte(testLayout), 0o644)
	os.WriteFile(filepath.Join(dir, ".envrc"), []byte("use sysvm\n"), 0o644)
	e.allow(dir)
	return dir
}

// editEnvrc rewrites a project's .envrc as a later edit would: direnv
// notices changes by modification time, which has a resolution of seconds.
func editEnvrc(t *testing.T, dir, body string) {
	t.Helper()
	p := filepath.Join(dir, ".envrc")
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	later := st.ModTime().Add(2 * time.Second)
	if now := time.Now(); now.After(later) {
		later = now
	}
	os.Chtimes(p, later, later)
}

func needTools(t *testing.T, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (test/deps.sh installs it)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

func TestCdEntersTheVM(t *testing.T) {
	needTools(t, "direnv", "tmux", "bash", "zsh", "fish")
	e := newEnv(t)
	shells := e.shellSetup(t)
	d := e.tmux(t)
	dir := e.direnvProject("newproj")
	d.open("a", e.WorkDir, shells["bash"])

	// A new project: direnv allow → VM created → in the session.
	d.typeLine("a", "cd "+dir)
	d.waitFor("a", `is blocked`, 10*time.Second)
	d.typeLine("a", "direnv allow")
	d.ask("a", "echo ready-$SYSINIT_IN_VM-$((40+2))", "ready-1-42", 60*time.Second)
	if e.creates("newproj-dev") != 1 {
		t.Fatalf("VM not created by cd: %q", e.Calls())
	}
	d.ask("a", "echo written-inside > from-vm.txt; sleep 100000 & echo $! > bg.pid; echo wrote-$((1+1))", "wrote-2", 10*time.Second)
	if b, _ := os.ReadFile(filepath.Join(dir, "from-vm.txt")); string(b) != "written-inside\n" {
		t.Errorf("file written in the VM: %q", b)
	}
	pid := readPID(t, filepath.Join(dir, "bg.pid"))
	// Detach: back at the host prompt in the project, not re-attached.
	d.detach("a")
	d.typeLine("a", "echo host-pwd=$PWD")
	d.waitFor("a", "host-pwd="+regexp.QuoteMeta(dir), 5*time.Second)
	time.Sleep(time.Second)
	if strings.Count(d.screen("a"), "Session detached") != 1 {
		t.Errorf("re-attached without leaving:\n%s", d.screen("a"))
	}
	// Leave and come back: the same session.
	d.clear("a")
	d.leaveAndReturn("a")
	d.ask("a", "kill -0 $(cat bg.pid) && echo alive-$((2+2))", "alive-4", 30*time.Second)
	if !pidAlive(pid) {
		t.Error("the session's process died")
	}
	d.detach("a")

	// Manual control with the helper commands direnv put on PATH.
	d.clear("a")
	d.typeLine("a", "vm-stop && vm-status")
	d.waitFor("a", `newproj-dev \(Stopped\)`, 30*time.Second)
	d.leaveAndReturn("a")
	d.ask("a", "echo restarted-$SYSINIT_IN_VM-$((3+3))", "restarted-1-6", 60*time.Second)
	d.detach("a")
	d.clear("a")
	d.typeLine("a", "vm-destroy")
	d.waitFor("a", `\[y/N\]`, 10*time.Second)
	d.typeLine("a", "y")
	d.waitFor("a", `deleted newproj-dev`, 20*time.Second)
	d.leaveAndReturn("a")
	d.ask("a", "echo recreated-$SYSINIT_IN_VM-$((4+4))", "recreated-1-8", 60*time.Second)
	if n := e.creates("newproj-dev"); n != 2 {
		t.Errorf("creates = %d, want 2 (recreated after vm-destroy)", n)
	}
	d.detach("a")

	// The escape hatch in .envrc.
	editEnvrc(t, dir, "use sysvm\nexport SYSINIT_NO_AUTO_VM=1\n")
	d.clear("a")
	d.typeLine("a", "direnv allow")
	d.waitFor("a", `auto-entry is off`, 10*time.Second)
	d.typeLine("a", "vm-shell echo via-vm-shell-$((3+4)); vm-status | grep -c Running | sed s/^/running=/")
	d.waitFor("a", `via-vm-shell-7`, 20*time.Second)
	d.waitFor("a", `running=1`, 20*time.Second)
	if strings.Contains(d.screen("a"), "Session detached") {
		t.Error("entered the VM with SYSINIT_NO_AUTO_VM=1")
	}
	editEnvrc(t, dir, "use sysvm\n")
	d.typeLine("a", "direnv allow")
	d.ask("a", "echo entered-again-$SYSINIT_IN_VM-$((5+4))", "entered-again-1-9", 30*time.Second)

	// Inside the VM's session, cd into the project does nothing.
	d.typeLine("a", "bash --rcfile "+filepath.Join(e.Home, ".bashrc")+" -i")
	d.waitFor("a", `host\$ $`, 10*time.Second)
	d.typeLine("a", "direnv allow "+dir)
	d.typeLine("a", "cd ..")
	d.typeLine("a", "cd -")
	d.ask("a", "echo inner-$SYSINIT_IN_VM-$ZELLIJ_SESSION_NAME-$((6+6))", "inner-1-newproj-12", 20*time.Second)
	if strings.Contains(d.screen("a"), "sysvm: error") {
		t.Errorf("sysvm ran inside the VM:\n%s", d.screen("a"))
	}
	// Back at the session's own shell before detaching: keys typed while
	// the nested shell exits can reach it instead of the session.
	d.typeLine("a", "exit")
	d.waitFor("a", `^exit\n\S*@vm:\S*# ?$`, 10*time.Second)
	d.detach("a")
}

func TestCdThreeProjectsThreeShells(t *testing.T) {
	needTools(t, "direnv", "tmux", "bash", "zsh", "fish")
	e := newEnv(t)
	shells := e.shellSetup(t)
	d := e.tmux(t)
	names := []string{"bash", "zsh", "fish"}
	for _, sh := range names {
		dir := e.direnvProject("p" + sh)
		d.open(sh, e.WorkDir, shells[sh])
		d.typeLine(sh, "cd "+dir+" && direnv allow")
	}
	for _, sh := range names {
		d.ask(sh, "echo I-am-in-$ZELLIJ_SESSION_NAME-$((1+1))", "I-am-in-p"+sh+"-2", 60*time.Second)
	}
	for _, sh := range names {
		for _, other := range names {
			if other != sh && strings.Contains(d.screen(sh), "I-am-in-p"+other) {
				t.Errorf("window %s shows project %s", sh, other)
			}
		}
	}
	// Switching: leave one project for another in the same terminal.
	d.detach("zsh")
	d.clear("zsh")
	d.typeLine("zsh", "cd "+filepath.Join(e.Root, "p", "pfish"))
	d.ask("zsh", "echo now-in-$ZELLIJ_SESSION_NAME-$((2+1))", "now-in-pfish-3", 30*time.Second)
	for _, sh := range names {
		d.detach(sh)
	}
	if insts := e.Instances(); len(insts) != 3 {
		t.Errorf("instances = %v, want three VMs", insts)
	}
}

// TestCdHostilePath: project paths with spaces, quotes, $, $(…) and
// backticks reach the VM intact and run nothing. direnv 2.32 itself runs
// $(…) and backticks in a directory's path (and expands ${…}) when it
// loads that directory's .envrc, so those cases export the variable the
// way `use sysvm` would, and the direnv case keeps to spaces and a single
// quote (direnv also drops double quotes from the path).
func TestCdHostilePath(t *testing.T) {
	needTools(t, "direnv", "tmux", "bash")
	e := newEnv(t)
	shells := e.shellSetup(t)
	d := e.tmux(t)
	quoted := e.direnvProject(`it's a dir with  spaces`)
	d.open("h", e.WorkDir, shells["bash"])
	d.typeLine("h", "cd "+shellQuote(quoted)+" && direnv allow")
	d.ask("h", `test "$PWD" = `+shellQuote(quoted)+` && echo same-path-$SYSINIT_IN_VM-$((7*6))`, "same-path-1-42", 60*time.Second)
	d.detach("h")

	hostile := e.direnvProject("x $(touch PWNED) `touch PWNED2` ${HOME} $HOME ; touch PWNED3 \\ end")
	os.Remove(filepath.Join(hostile, ".envrc"))
	d.typeLine("h", "cd "+shellQuote(hostile))
	d.waitFor("h", `unloading`, 10*time.Second)
	d.typeLine("h", "export SYSVM_PROJECT_DIR="+shellQuote(hostile))
	d.ask("h", `test "$PWD" = `+shellQuote(hostile)+` && echo hostile-ok-$SYSINIT_IN_VM-$((6*7))`, "hostile-ok-1-42", 60*time.Second)
	d.ask("h", `echo in-vm-$SYSINIT_IN_VM-$((3*3))`, "in-vm-1-9", 10*time.Second)
	d.detach("h")
	out, _ := exec.Command("find", e.Root, "-name", "PWNED*").Output()
	if strings.TrimSpace(string(out)) != "" {
		t.Errorf("a hostile project path ran a command: %s", out)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
