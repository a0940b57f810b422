package allow

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
)

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func proj(t *testing.T, dir string) *project.Project {
	t.Helper()
	p, err := project.Load(dir, project.Options{LimaHome: "/h/.lima"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func notAllowed(t *testing.T, err error) *NotAllowedError {
	t.Helper()
	var na *NotAllowedError
	if !errors.As(err, &na) {
		t.Fatalf("Check = %v, want a NotAllowedError", err)
	}
	return na
}

// A fresh clone's sysvm.yaml is not used until allowed, says what it asks
// for, and a change after allowing is caught.
func TestAllowFreshCloneThenChange(t *testing.T) {
	sd, dir := state.Dir(t.TempDir()), t.TempDir()
	write(t, filepath.Join(dir, "sysvm.yaml"), "forwardAgent: true\nprovision: echo hi\nlima:\n  mounts: [{location: \"~\", writable: true}]\n")
	na := notAllowed(t, Check(sd, proj(t, dir)))
	if strings.Join(na.New, ",") != "sysvm.yaml" || len(na.Changed) != 0 {
		t.Errorf("new %q changed %q, want sysvm.yaml new", na.New, na.Changed)
	}
	reach := strings.Join(na.Reach, "\n")
	for _, want := range []string{"forwardAgent", "provision", "lima: mounts"} {
		if !strings.Contains(reach, want) || !strings.Contains(na.Error(), want) {
			t.Errorf("the message does not list %q:\n%s", want, na.Error())
		}
	}
	if h := na.Hints(); len(h) != 1 || !strings.Contains(h[0], "sysvm allow "+dir) {
		t.Errorf("hints = %q", h)
	}

	if _, err := Allow(sd, proj(t, dir)); err != nil {
		t.Fatal(err)
	}
	if err := Check(sd, proj(t, dir)); err != nil {
		t.Fatalf("after allow: %v", err)
	}

	write(t, filepath.Join(dir, "sysvm.yaml"), "forwardAgent: true\ncpus: 2\n")
	na = notAllowed(t, Check(sd, proj(t, dir)))
	if strings.Join(na.Changed, ",") != "sysvm.yaml" || !strings.Contains(na.Error(), "changed since you allowed it") {
		t.Errorf("a change is not reported as one: %v", na)
	}
	// Allowing one directory allows no other.
	other := t.TempDir()
	write(t, filepath.Join(other, "sysvm.yaml"), "forwardAgent: true\ncpus: 2\n")
	if _, err := Allow(sd, proj(t, dir)); err != nil {
		t.Fatal(err)
	}
	notAllowed(t, Check(sd, proj(t, other)))
}

func TestWhichFilesNeedAllowing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, sd state.Dir, dir string)
		want  string // the files needing allow, comma-separated
	}{
		{"nothing: the first day just works", func(t *testing.T, sd state.Dir, dir string) {}, ""},
		{"a sysvm.yaml that sets nothing", func(t *testing.T, sd state.Dir, dir string) {
			write(t, filepath.Join(dir, "sysvm.yaml"), "# cpus: 4\n")
		}, ""},
		{"a sysvm.yaml that names the project", func(t *testing.T, sd state.Dir, dir string) {
			write(t, filepath.Join(dir, "sysvm.yaml"), "name: other\n")
		}, "sysvm.yaml"},
		{"a Lima config sysvm generated", func(t *testing.T, sd state.Dir, dir string) {
			gen := generate(t, dir)
			write(t, filepath.Join(dir, project.LimaConfigPath), string(gen))
			if err := Generated(sd, dir, gen); err != nil {
				t.Fatal(err)
			}
		}, ""},
		// Only sysvm's record makes a config its own: anyone can write a
		// file that looks generated.
		{"a committed Lima config that looks generated", func(t *testing.T, sd state.Dir, dir string) {
			write(t, filepath.Join(dir, project.LimaConfigPath), string(generate(t, dir)))
		}, project.LimaConfigPath},
		{"a Lima config edited by hand", func(t *testing.T, sd state.Dir, dir string) {
			gen := generate(t, dir)
			if err := Generated(sd, dir, gen); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, project.LimaConfigPath), "mounts: [{location: \"~\"}]\n"+string(gen))
		}, project.LimaConfigPath},
		{"the layout", func(t *testing.T, sd state.Dir, dir string) {
			write(t, filepath.Join(dir, project.LayoutFile), "layout {}\n")
		}, project.LayoutFile},
		{"sysvm.yaml and the layout it names", func(t *testing.T, sd state.Dir, dir string) {
			write(t, filepath.Join(dir, "sysvm.yaml"), "layout: dev.kdl\n")
			write(t, filepath.Join(dir, "dev.kdl"), "layout {}\n")
		}, "sysvm.yaml,dev.kdl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, dir := state.Dir(t.TempDir()), t.TempDir()
			tt.setup(t, sd, dir)
			fs := needing(proj(t, dir), load(sd, dir))
			var got []string
			for _, f := range fs {
				got = append(got, f.Rel)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("Files = %q, want %q", got, tt.want)
			}
			err := Check(sd, proj(t, dir))
			if (err == nil) != (tt.want == "") {
				t.Errorf("Check = %v", err)
			}
		})
	}
}

// A layout that is a link out of the project fails loading the project
// itself: it can never be allowed.
func TestAllowRefusesALinkedLayout(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".sysvm"), 0o755)
	os.Symlink("/proc/self/environ", filepath.Join(dir, project.LayoutFile))
	if _, err := project.Load(dir, project.Options{LimaHome: "/h/.lima"}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Load = %v, want the layout refused", err)
	}
}

func generate(t *testing.T, dir string) []byte {
	t.Helper()
	gen, err := limaconfig.Generate(&project.Project{Dir: dir, Slug: "x", VM: "x-dev"}, limaconfig.Settings{}, limaconfig.ThisHost())
	if err != nil {
		t.Fatal(err)
	}
	return gen
}

// What `sysvm init` records is what the files hold: nothing to allow
// after it, until the user changes a file.
func TestContentsAllowsWhatInitWrote(t *testing.T) {
	sd, dir := state.Dir(t.TempDir()), t.TempDir()
	body := "cpus: 4\n"
	write(t, filepath.Join(dir, "sysvm.yaml"), body)
	if err := Contents(sd, dir, map[string][]byte{"sysvm.yaml": []byte(body)}); err != nil {
		t.Fatal(err)
	}
	if err := Check(sd, proj(t, dir)); err != nil {
		t.Fatalf("after init: %v", err)
	}
	write(t, filepath.Join(dir, "sysvm.yaml"), "cpus: 4\nforwardAgent: true\n")
	notAllowed(t, Check(sd, proj(t, dir)))
}

// Every listed value is one escaped line, name and ports are listed, and
// what reaches beyond the project is named for the prompt.
func TestListingCannotBeForged(t *testing.T) {
	dir := t.TempDir()
	path := "/opt/z" + strings.Repeat("\n", 60) + "harmless: nothing"
	write(t, filepath.Join(dir, "sysvm.yaml"), "forwardAgent: true\nname: shop\nports: [\"8080\", \"3000:3001\"]\nzellij:\n  path: "+strconv.Quote(path)+"\n")
	na := notAllowed(t, Check(state.Dir(t.TempDir()), proj(t, dir)))
	msg := na.Error()
	if strings.Count(msg, "\n") != 1+len(na.Reach) {
		t.Errorf("the listing has %d lines for %d items:\n%s", strings.Count(msg, "\n"), len(na.Reach), msg)
	}
	for _, want := range []string{`zellij.path: the VM's /opt/z\n\n\n`, "forwardAgent", "name: the VM shop-dev", "ports: host ports forwarded to the VM: 8080, 3000:3001"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the listing does not show %q:\n%s", want, msg)
		}
	}
	if got := strings.Join(na.Risky, ", "); got != "forwardAgent, zellij.path" {
		t.Errorf("risky = %q", got)
	}
}
