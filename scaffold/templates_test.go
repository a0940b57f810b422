package scaffold_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/scaffold"
)

// TestTemplatesAgree checks what the templates promise to sysvm itself:
// each .envrc, as init writes it, loads sysvm with the lines --force
// appends and is seen by project discovery (project.EnvrcUsesSysvm, the
// check sysvm itself makes); vm-custom's sysvm.yaml is valid and generates
// a config.
func TestTemplatesAgree(t *testing.T) {
	for _, tmpl := range scaffold.Templates() {
		t.Run(tmpl, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := scaffold.Init(dir, tmpl, false); err != nil {
				t.Fatal(err)
			}
			envrcPath := filepath.Join(dir, ".envrc")
			envrc, err := os.ReadFile(envrcPath)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(envrc), scaffold.EnvrcLoader) {
				t.Errorf(".envrc lacks the loader lines\n%s", scaffold.EnvrcLoader)
			}
			if !project.EnvrcUsesSysvm(envrcPath) {
				t.Errorf(".envrc is not seen as `use sysvm` by project discovery:\n%s", envrc)
			}
			sub := filepath.Join(dir, "sub")
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			if p, err := project.Resolve(sub, project.Options{}); err != nil || p.Dir != realPath(t, dir) {
				t.Errorf("discovery from a subdirectory found %+v, %v; want the project at %s", p, err, dir)
			}
			if out, err := exec.Command("bash", "-n", envrcPath).CombinedOutput(); err != nil {
				t.Errorf(".envrc is not valid bash: %v\n%s", err, out)
			}
		})
	}
	dir := t.TempDir()
	if _, err := scaffold.Init(dir, "vm-custom", false); err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(dir, project.Options{LimaHome: "/home/alice/.lima"})
	if err != nil {
		t.Fatalf("vm-custom's sysvm.yaml: %v", err)
	}
	if !p.HasFile || p.File.CPUs != 4 {
		t.Errorf("vm-custom's sysvm.yaml read as %+v", p.File)
	}
	if p.File.Provision != "" {
		t.Errorf("vm-custom's sysvm.yaml provisions at every boot:\n%s", p.File.Provision)
	}
	s, err := limaconfig.Resolve(p, limaconfig.Overrides{}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := limaconfig.Generate(p, s, limaconfig.Host{OS: "linux", Arch: "x86_64"}); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownTemplate: a name that is not a template is refused with the
// known ones, and nothing is written.
func TestUnknownTemplate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	_, err := scaffold.Init(dir, "vm-bogus", false)
	var ue *scaffold.UnknownError
	if err == nil || !strings.Contains(err.Error(), "vm-dev") || !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an UnknownError naming the known templates", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Init made %s for an unknown template", dir)
	}
}

func realPath(t *testing.T, p string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return real
}
