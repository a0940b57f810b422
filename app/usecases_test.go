package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/ui/uitest"
	"github.com/sysvm/sysvm/zellij"
)

// gated is an App on a fake terminal and a project with a sysvm.yaml
// nobody allowed yet.
func gated(t *testing.T, tty bool, answer string) (*App, *project.Project, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte("forwardAgent: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(dir, project.Options{LimaHome: "/h/.lima"})
	if err != nil {
		t.Fatal(err)
	}
	u, in, _, errOut := uitest.New()
	u.InTTY = tty
	in.WriteString(answer)
	return &App{Getenv: func(string) string { return "" }, UI: u, State: state.Dir(t.TempDir())}, p, errOut
}

// The allow gate: files not allowed are refused without a terminal, and
// where the command may not ask; on a terminal it asks, and "y" allows
// them for good while "n" refuses.
func TestAllowGate(t *testing.T) {
	notAllowed := func(err error) bool {
		var na *allow.NotAllowedError
		return errors.As(err, &na)
	}
	a, p, errOut := gated(t, false, "y\n")
	if err := a.allowed(p, true); !notAllowed(err) || errOut.Len() > 0 {
		t.Errorf("no terminal: %v, said %q; want a NotAllowedError and no question", err, errOut)
	}
	a, p, errOut = gated(t, true, "y\n")
	if err := a.allowed(p, false); !notAllowed(err) || errOut.Len() > 0 {
		t.Errorf("a command that does not ask: %v, said %q", err, errOut)
	}
	if err := a.allowed(p, true); err != nil {
		t.Errorf("answered y: %v", err)
	}
	said := errOut.String()
	for _, want := range []string{"sysvm.yaml", "they reach beyond the project: forwardAgent", "Allow them as they are now? [y/N] "} {
		if !strings.Contains(said, want) {
			t.Errorf("the question lacks %q:\n%s", want, said)
		}
	}
	if err := allow.Check(a.State, p); err != nil {
		t.Errorf("after y, the files are still not allowed: %v", err)
	}
	a, p, errOut = gated(t, true, "n\n")
	if err := a.allowed(p, true); !notAllowed(err) || !strings.Contains(errOut.String(), "nothing changed") {
		t.Errorf("answered n: %v, said %q", err, errOut)
	}
	if err := allow.Check(a.State, p); !notAllowed(err) {
		t.Errorf("after n, Check = %v", err)
	}
}

// A question without a terminal is refused with the flag that answers
// yes as the hint; --yes asks nothing.
func TestConfirm(t *testing.T) {
	a, _, errOut := gated(t, false, "")
	ok, err := a.confirm(false, "Delete?", "delete x-dev", "sysvm destroy --yes")
	if ok || err == nil || err.Error() != "refusing to delete x-dev without confirmation" || strings.Join(hint.Of(err), "") != "sysvm destroy --yes" {
		t.Errorf("no terminal: %v, %v (hints %q)", ok, err, hint.Of(err))
	}
	if ok, err := a.confirm(true, "Delete?", "", ""); !ok || err != nil || errOut.Len() > 0 {
		t.Errorf("--yes: %v, %v, said %q", ok, err, errOut)
	}
}

// `sysvm sessions --json` prints [] for none, and the text form says
// there are none on stderr instead.
func TestSessionsOutput(t *testing.T) {
	u, _, _, errOut := uitest.New()
	ss := Sessions{VM: "x-dev", This: "x", ui: u}
	b, err := json.Marshal(ss)
	if err != nil || string(b) != "[]" {
		t.Errorf("JSON of none = %s, %v", b, err)
	}
	var out bytes.Buffer
	if err := ss.WriteText(&out); err != nil || out.Len() > 0 || errOut.String() != "sysvm: no Zellij sessions in x-dev\n" {
		t.Errorf("text of none: %q on stdout, %q on stderr, %v", out.String(), errOut, err)
	}
	ss.List = []zellij.Session{{Name: "x"}}
	if b, _ := json.Marshal(ss); !strings.HasPrefix(string(b), "[{") {
		t.Errorf("JSON of one = %s", b)
	}
}

// A Lima config that is exactly what sysvm generates from the settings
// (`task lima:init` writes one) needs no allow; one line more and it does.
func TestGeneratedConfigIsAdopted(t *testing.T) {
	for _, extra := range []string{"", "mounts: [{location: \"~\", writable: true}]\n"} {
		dir := t.TempDir()
		a := &App{Getenv: func(string) string { return "" }, UI: nil, State: state.Dir(t.TempDir())}
		p, err := project.Load(dir, project.Options{LimaHome: "/h/.lima"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := a.settings(p, limaconfig.Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		gen, err := limaconfig.Generate(p, s, limaconfig.ThisHost())
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, ".lima"), 0o755)
		os.WriteFile(filepath.Join(dir, project.LimaConfigPath), append(gen, extra...), 0o644)
		if p, err = project.Load(dir, project.Options{LimaHome: "/h/.lima"}); err != nil {
			t.Fatal(err)
		}
		a.adoptGenerated(p, limaconfig.Overrides{})
		err = a.allowed(p, false)
		if extra == "" && err != nil {
			t.Errorf("the config as sysvm generates it needs allowing: %v", err)
		}
		if extra != "" && err == nil {
			t.Errorf("a config with a line of its own was adopted")
		}
	}
}
