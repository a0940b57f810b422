package zellij

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// argvPrinter prints each argument it gets, NUL-terminated.
const argvPrinter = `printf '%s\0' "$@"`

// runInShell runs line in shell as `shell -c line`, the way sshd runs a
// remote command in the login shell, with "exec" bound to an argv printer.
func runInShell(t *testing.T, shell, line string) []string {
	t.Helper()
	// Replace the final program with a script that prints its argv.
	cmd := exec.Command(shell, "-c", line)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s -c %q: %v", shell, line, err)
	}
	s := strings.TrimSuffix(string(out), "\x00")
	return strings.Split(s, "\x00")
}

var tricky = []string{
	"plain", "", "with space", "it's", `dou"ble`, `back\slash`, `\\`, `$HOME`, "`id`", "$(id)",
	"semi;colon", "a&b|c", "new\nline", "tab\there", "ümlaut ü", "*glob?", "~tilde", "-dash", "{a,b}", "#hash", "%pct",
	"=ls", "a=b", "=", "bad \xff\xfe utf-8", "\xc3",
}

func TestQuoteInRealShells(t *testing.T) {
	shells := []string{"sh", "bash", "zsh", "fish", "dash"}
	ran := 0
	for _, sh := range shells {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		ran++
		t.Run(sh, func(t *testing.T) {
			args := append([]string{"sh", "-c", argvPrinter, "sh"}, tricky...)
			line := Command{Argv: args}.Line()
			got := runInShell(t, sh, line)
			if !reflect.DeepEqual(got, tricky) {
				t.Errorf("%s parsed %q as\n%q\nwant\n%q", sh, line, got, tricky)
			}
		})
	}
	if ran == 0 {
		t.Fatal("no shell found")
	}
}

func TestCommandLineDirAndEnv(t *testing.T) {
	dir := t.TempDir() + "/it's a \"dir\" $x"
	if err := exec.Command("mkdir", "-p", dir).Run(); err != nil {
		t.Fatal(err)
	}
	c := Command{Dir: dir, Env: map[string]string{"PROJECT_NAME": "my app's", "SYSINIT_IN_VM": "1"},
		Argv: []string{"sh", "-c", `printf '%s\0' "$PWD" "$PROJECT_NAME" "$SYSINIT_IN_VM"`}}
	for _, sh := range []string{"sh", "bash", "zsh", "fish"} {
		if _, err := exec.LookPath(sh); err != nil {
			continue
		}
		got := runInShell(t, sh, c.Line())
		want := []string{dir, "my app's", "1"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q want %q", sh, got, want)
		}
	}
}

func TestAttachArgv(t *testing.T) {
	got := AttachArgv("zellij", "/home/u/.cache/sysvm/layouts/web.kdl", "web")
	want := []string{"zellij", "--layout", "/home/u/.cache/sysvm/layouts/web.kdl", "attach", "--create", "web"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AttachArgv = %q, want %q (--layout before attach, --create, no --session)", got, want)
	}
}

func TestParseList(t *testing.T) {
	out := "web [Created 1h 2m 3s ago] \n" +
		"old [Created 3days 4m ago] (EXITED - attach to resurrect)\n" +
		"here [Created 0s ago] (current)\n"
	got := ParseList(out)
	want := []Session{
		{Name: "web", Created: "1h 2m 3s"},
		{Name: "old", Created: "3days 4m", Exited: true},
		{Name: "here", Created: "0s", Current: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseList = %+v, want %+v", got, want)
	}
	if s, ok := Find(got, "old"); !ok || s.State() != "exited" {
		t.Errorf("Find(old) = %+v %v", s, ok)
	}
	if len(ParseList("")) != 0 {
		t.Error("empty output should list nothing")
	}
}
