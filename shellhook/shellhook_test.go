package shellhook

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/term"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// trickySelf is a sysvm path with a space, both quotes, a $ and a backslash.
const trickySelf = `/opt/my tools/it's "sys$vm"\bin/sysvm`

func TestHookGolden(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			sh, _ := Lookup(name)
			got, err := sh.Hook(trickySelf)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "hook."+name+".golden")
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("hook differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	for _, in := range []string{"bash", "-zsh", "/usr/bin/fish", "-/bin/bash"} {
		if _, err := Lookup(in); err != nil {
			t.Errorf("Lookup(%q): %v", in, err)
		}
	}
	if _, err := Lookup("tcsh"); err == nil {
		t.Error("want an error for tcsh")
	}
}

// syntaxCheck is each shell's parse-only mode.
var syntaxCheck = map[string][]string{
	"bash": {"bash", "-n"},
	"zsh":  {"zsh", "-n"},
	"fish": {"fish", "--no-execute"},
}

// privateDir is a new directory that only the user can enter: a shell's
// HOME and XDG_RUNTIME_DIR (fish ignores a runtime directory others can
// read, and falls back to /tmp/fish.$USER).
func privateDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

func needShell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (apt-get install %s)", name, name)
		}
		t.Skipf("%s is not installed (apt-get install %s)", name, name)
	}
	return p
}

func TestHookSyntax(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			needShell(t, name)
			sh, _ := Lookup(name)
			text, _ := sh.Hook(trickySelf)
			c := syntaxCheck[name]
			cmd := exec.Command(c[0], c[1:]...)
			home := privateDir(t)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_RUNTIME_DIR=" + home}
			cmd.Stdin = strings.NewReader(text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s rejects the hook: %v\n%s", name, err, out)
			}
		})
	}
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = strings.NewReader(Direnvrc(trickySelf))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bash rejects the direnv library: %v\n%s", err, out)
	}
}

// fakeSysvm writes a stand-in for sysvm at a path with awkward characters;
// it appends its argv to calls.log and prints a marker.
func fakeSysvm(t *testing.T) (self, log string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), `my "tools" it's $x`)
	os.MkdirAll(dir, 0o755)
	log = filepath.Join(filepath.Dir(dir), "calls.log")
	self = filepath.Join(dir, "sysvm")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + QuotePOSIX(log) + "\necho FAKE-SYSVM-RAN \"$*\"\n"
	if err := os.WriteFile(self, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return self, log
}

func calls(t *testing.T, log string) []string {
	b, _ := os.ReadFile(log)
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// shellSession starts an interactive shell in a pty with the hook loaded
// twice (registering must happen once) and returns a function that runs one
// command line and waits for its prompt.
type shellSession struct {
	tm *term.Term
	n  int
}

func (s *shellSession) run(t *testing.T, line string) string {
	t.Helper()
	s.n++
	mark := s.tm.Mark()
	done := "DONE" + strings.Repeat("x", s.n%3) + "-" + string(rune('a'+s.n%26))
	s.tm.Line(line + "; echo " + done)
	s.tm.WaitAfter(mark, done+`\r?\n`, 10*time.Second)
	// Wait for the next prompt, after which the hook has run.
	s.tm.WaitAfter(mark, `PROMPT>`, 10*time.Second)
	return s.tm.Output()[mark:]
}

func startShell(t *testing.T, name, hookFile string, env []string) *shellSession {
	t.Helper()
	path := needShell(t, name)
	var cmd *exec.Cmd
	switch name {
	case "bash":
		cmd = exec.Command(path, "--norc", "--noprofile", "-i")
		env = append(env, "PS1=PROMPT> ")
	case "zsh":
		cmd = exec.Command(path, "-f", "-i")
		env = append(env, "PS1=PROMPT> ", "PROMPT=PROMPT> ")
	case "fish":
		cmd = exec.Command(path, "--no-config", "-i")
	}
	home := privateDir(t)
	cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=xterm", "XDG_CONFIG_HOME=" + home, "XDG_RUNTIME_DIR=" + home}, env...)
	tm := term.Start(t, cmd)
	s := &shellSession{tm: tm}
	if name == "fish" {
		tm.Line("function fish_prompt; echo -n 'PROMPT> '; end")
		tm.Wait(`PROMPT> `, 10*time.Second)
		s.run(t, "source "+QuoteFish(hookFile)+"; source "+QuoteFish(hookFile))
	} else {
		tm.Wait(`PROMPT> `, 10*time.Second)
		s.run(t, "source "+QuotePOSIX(hookFile)+"; source "+QuotePOSIX(hookFile))
	}
	return s
}

func TestHookBehaviour(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			self, log := fakeSysvm(t)
			sh, _ := Lookup(name)
			text, _ := sh.Hook(self)
			hookFile := filepath.Join(t.TempDir(), "hook."+name)
			os.WriteFile(hookFile, []byte(text), 0o644)
			s := startShell(t, name, hookFile, nil)
			setVar := func(v string) string {
				if name == "fish" {
					return "set -gx SYSVM_PROJECT_DIR " + QuoteFish(v)
				}
				return "export SYSVM_PROJECT_DIR=" + QuotePOSIX(v)
			}
			unsetVar := "unset SYSVM_PROJECT_DIR"
			if name == "fish" {
				unsetVar = "set -e SYSVM_PROJECT_DIR"
			}
			if name != "fish" {
				s.run(t, "set -u")
			}

			// Outside a project: nothing runs.
			s.run(t, "true")
			if c := calls(t, log); len(c) != 0 {
				t.Fatalf("sysvm ran outside a project: %q", c)
			}
			// Entering: one attach, even over several prompts.
			proj := "/work/it's a \"project\""
			s.run(t, setVar(proj))
			s.run(t, "true")
			s.run(t, "true")
			if c := calls(t, log); len(c) != 1 || c[0] != "attach -- "+proj {
				t.Fatalf("after entering: calls = %q, want one attach of %q", c, proj)
			}
			// $? survives the hook.
			mark := s.tm.Mark()
			s.tm.Line("false")
			s.tm.WaitAfter(mark, `PROMPT>`, 10*time.Second)
			var out string
			if name == "fish" {
				out = s.run(t, "echo rc=$status")
			} else {
				out = s.run(t, `echo "rc=$?"`)
			}
			if !strings.Contains(out, "rc=1") {
				t.Errorf("exit status not preserved across the prompt: %q", out)
			}
			// Leaving and coming back attaches again.
			s.run(t, unsetVar)
			s.run(t, setVar(proj))
			if c := calls(t, log); len(c) != 2 {
				t.Fatalf("after leaving and coming back: calls = %q, want 2", c)
			}
			// Escape hatches: no attach.
			for _, guard := range []string{"CI", "SYSINIT_IN_VM", "ZELLIJ", "VSCODE_RESOLVING_ENVIRONMENT"} {
				s.run(t, unsetVar)
				if name == "fish" {
					s.run(t, "set -gx "+guard+" 1; "+setVar("/work/"+guard)+"; true")
					s.run(t, "set -e "+guard)
				} else {
					s.run(t, "export "+guard+"=1; "+setVar("/work/"+guard)+"; true")
					s.run(t, "unset "+guard)
				}
			}
			if c := calls(t, log); len(c) != 2 {
				t.Fatalf("a guard let sysvm run: calls = %q", c)
			}
			s.run(t, unsetVar)
			var out2 string
			if name == "fish" {
				out2 = s.run(t, "set -gx SYSINIT_NO_AUTO_VM 1; "+setVar("/work/noauto"))
			} else {
				out2 = s.run(t, "export SYSINIT_NO_AUTO_VM=1; "+setVar("/work/noauto"))
			}
			if !strings.Contains(out2, "auto-entry is off") {
				t.Errorf("SYSINIT_NO_AUTO_VM=1 did not say how to enter: %q", out2)
			}
			if c := calls(t, log); len(c) != 2 {
				t.Fatalf("SYSINIT_NO_AUTO_VM=1 let sysvm run: calls = %q", c)
			}
			// Turning auto-entry back on enters at the next prompt, once.
			if name == "fish" {
				s.run(t, "set -e SYSINIT_NO_AUTO_VM")
			} else {
				s.run(t, "unset SYSINIT_NO_AUTO_VM")
			}
			s.run(t, "true")
			if c := calls(t, log); len(c) != 3 || c[2] != "attach -- /work/noauto" {
				t.Fatalf("after SYSINIT_NO_AUTO_VM was removed: calls = %q", c)
			}
			if strings.Contains(s.tm.Output(), "unbound variable") || strings.Contains(s.tm.Output(), "parameter not set") {
				t.Errorf("the hook breaks under set -u:\n%s", s.tm.Output())
			}
		})
	}
}

// runHookOnce loads the hook into a shell started with -c on a terminal
// (-i too when interactive), with env added to a clean environment, runs
// the hook once as a prompt would, and returns the sysvm calls it made.
func runHookOnce(t *testing.T, name string, interactive bool, env ...string) []string {
	t.Helper()
	path := needShell(t, name)
	self, log := fakeSysvm(t)
	sh, _ := Lookup(name)
	text, _ := sh.Hook(self)
	var args []string
	switch name {
	case "fish":
		args = []string{"--no-config", "-c", text + "\nemit fish_prompt\n"}
	case "zsh":
		args = []string{"-f", "-c", text + "\n_sysvm_hook\n"}
	default:
		args = []string{"--norc", "--noprofile", "-c", text + "\n_sysvm_hook\n"}
	}
	if interactive { // before -c: bash takes long options first
		n := len(args) - 2
		args = append(args[:n:n], append([]string{"-i"}, args[n:]...)...)
	}
	cmd := exec.Command(path, args...)
	home := privateDir(t)
	cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TERM=xterm", "XDG_CONFIG_HOME=" + home, "XDG_RUNTIME_DIR=" + home}, env...)
	tm := term.Start(t, cmd)
	if code := tm.ExitCode(10 * time.Second); code != 0 {
		t.Fatalf("%s %v exited %d:\n%s", name, args[:len(args)-1], code, tm.Output())
	}
	return calls(t, log)
}

// TestHookNotInNonInteractiveShell runs the hook in a shell started with
// -c on a terminal, so that every guard but interactivity passes; the same
// shell told to be interactive (-i) must run sysvm, which shows the
// interactivity check is what stops it.
func TestHookNotInNonInteractiveShell(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			if c := runHookOnce(t, name, false, "SYSVM_PROJECT_DIR=/p"); len(c) != 0 {
				t.Errorf("the hook ran sysvm in a non-interactive shell on a terminal: %q", c)
			}
			if c := runHookOnce(t, name, true, "SYSVM_PROJECT_DIR=/p"); len(c) != 1 {
				t.Errorf("the hook did not run sysvm in the same shell made interactive (calls %q), so the "+
					"non-interactive case proves nothing", c)
			}
		})
	}
}

// TestNoAutoVMValues: SYSINIT_NO_AUTO_VM turns auto-entry off when it is set
// to anything but empty, 0, false or no (any case).
func TestNoAutoVMValues(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			for _, tt := range []struct {
				value string
				enter bool
			}{
				{"1", false}, {"true", false}, {"yes", false}, {"on", false}, {"TRUE", false},
				{"", true}, {"0", true}, {"false", true}, {"no", true}, {"False", true}, {"NO", true},
			} {
				c := runHookOnce(t, name, true, "SYSVM_PROJECT_DIR=/p", "SYSINIT_NO_AUTO_VM="+tt.value)
				if entered := len(c) == 1; entered != tt.enter {
					t.Errorf("SYSINIT_NO_AUTO_VM=%q: entered %v, want %v", tt.value, entered, tt.enter)
				}
			}
		})
	}
}

func TestExports(t *testing.T) {
	got := Exports(map[string]string{"B": "it's", "A": "x y"})
	want := "export A='x y'\nexport B='it'\\''s'\n"
	if got != want {
		t.Errorf("Exports = %q, want %q", got, want)
	}
}
