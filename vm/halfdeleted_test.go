package vm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/ui/uitest"
)

// halfDeletedLimactl is a limactl of version ver over LIMA_HOME home: its
// list answers as Lima does for the half-deleted instance x-dev (1.x fails
// the whole list; 2.2 lists it Broken), its other commands record their
// argv in calls and succeed, except delete of x-dev, which fails as both
// do (2.2 refuses it; 1.x trips over it in its network check).
func halfDeletedLimactl(t *testing.T, home, ver, calls string) *lima.Client {
	t.Helper()
	list := `echo 'level=fatal msg="unable to load instance x-dev: open ` + home + `/x-dev/lima.yaml: no such file or directory"' >&2; exit 1`
	if ver == "2.2.0" {
		list = `echo '{"name":"x-dev","status":"Broken","dir":"` + home + `/x-dev","errors":[]}'; exit 0`
	}
	return caseLimactl(t, home, ver,
		"list) case \"$*\" in *x-dev*) "+list+";; *) echo '{\"name\":\"y-dev\",\"status\":\"Running\",\"dir\":\""+home+"/y-dev\"}';; esac;;\n"+
			"*) echo \"$*\" >>"+calls+"; case \"$*\" in delete*x-dev) exit 1;; esac;;\n")
}

// caseLimactl writes a limactl of version ver over LIMA_HOME home whose
// other commands are the shell case branches cases.
func caseLimactl(t *testing.T, home, ver, cases string) *lima.Client {
	t.Helper()
	dir := t.TempDir()
	exe := filepath.Join(dir, "limactl")
	script := "#!/bin/sh\ncase \"$1\" in\n--version) echo 'limactl version " + ver + "';;\n" + cases + "esac\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &lima.Client{Exe: exe, Dir: dir, Home: home}
}

// TestDestroyHalfDeleted: `sysvm destroy` (and so `up --recreate`) of a VM
// whose instance directory lost its lima.yaml removes that directory
// itself, on 1.x and 2.2 alike, where limactl delete fails.
func TestDestroyHalfDeleted(t *testing.T) {
	for _, ver := range []string{"1.2.2", "2.2.0"} {
		t.Run(ver, func(t *testing.T) {
			home, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls")
			os.MkdirAll(filepath.Join(home, "x-dev"), 0o700)
			os.WriteFile(filepath.Join(home, "x-dev", "diffdisk"), []byte("disk"), 0o600)
			u, _, _, out := uitest.New()
			m := &Manager{Lima: halfDeletedLimactl(t, home, ver, calls), LimaHome: home, State: state.Dir(t.TempDir()), Progress: &Progress{UI: u}}
			p := &project.Project{Dir: t.TempDir(), Slug: "x", VM: "x-dev"}
			existed, err := m.Destroy(context.Background(), p, false)
			if err != nil || !existed {
				t.Fatalf("Destroy = %v, %v", existed, err)
			}
			if _, err := os.Lstat(filepath.Join(home, "x-dev")); !os.IsNotExist(err) {
				t.Errorf("x-dev is still there: %v", err)
			}
			if b, _ := os.ReadFile(calls); strings.Contains(string(b), "delete") {
				t.Errorf("limactl delete was run:\n%s", b)
			}
			if !strings.Contains(out.String(), "removed "+filepath.Join(home, "x-dev")) {
				t.Errorf("said %q", out.String())
			}
		})
	}
}

// TestHalfDeletedSiblingMovedAside: before Lima 2.2 a stop (and a start,
// a delete) of one VM first moves another instance's half-deleted
// directory out of LIMA_HOME's instance namespace, with a note naming
// where; from 2.2, which skips it, it stays.
func TestHalfDeletedSiblingMovedAside(t *testing.T) {
	for _, tc := range []struct {
		ver   string
		moved bool
	}{{"1.2.2", true}, {"2.1.4", true}, {"2.2.0", false}} {
		t.Run(tc.ver, func(t *testing.T) {
			home, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls")
			os.MkdirAll(filepath.Join(home, "x-dev"), 0o700)
			os.MkdirAll(filepath.Join(home, "y-dev"), 0o700)
			os.WriteFile(filepath.Join(home, "y-dev", "lima.yaml"), []byte("cpus: 2\n"), 0o600)
			past := time.Now().Add(-time.Hour)
			os.Chtimes(filepath.Join(home, "x-dev"), past, past)
			u, _, _, out := uitest.New()
			m := &Manager{Lima: halfDeletedLimactl(t, home, tc.ver, calls), LimaHome: home, State: state.Dir(t.TempDir()), Progress: &Progress{UI: u}}
			p := &project.Project{Dir: t.TempDir(), Slug: "y", VM: "y-dev"}
			if _, err := m.Stop(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(calls); !strings.Contains(string(b), "stop --tty=false y-dev") {
				t.Errorf("limactl stop was not run:\n%s", b)
			}
			_, err := os.Lstat(filepath.Join(home, "x-dev"))
			if moved := os.IsNotExist(err); moved != tc.moved {
				t.Fatalf("x-dev moved = %v, want %v", moved, tc.moved)
			}
			aside, _ := filepath.Glob(filepath.Join(home, "_sysvm-broken", "x-dev-*"))
			said := out.String()
			if tc.moved && (len(aside) != 1 || !strings.Contains(said, aside[0]) || strings.Count(said, "moved") != 1) {
				t.Errorf("moved to %q; said %q", aside, said)
			}
			if !tc.moved && (len(aside) != 0 || said != "") {
				t.Errorf("moved to %q; said %q", aside, said)
			}
		})
	}
}
