package vm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
)

// ownerFixture is a state directory and a LIMA_HOME with VM "reg-dev"
// registered for dir reg, instances "mine-dev" (mounting dir), "theirs-dev"
// (mounting other), "bare-dev" (mounting nothing) and "both-dev" (mounting
// other and then dir), none of them registered.
func ownerFixture(t *testing.T, dir, reg, other string) (state.Dir, string) {
	t.Helper()
	sd, home := state.Dir(t.TempDir()), t.TempDir()
	if err := sd.Save(state.Record{Name: "reg", Dir: reg, VM: "reg-dev"}); err != nil {
		t.Fatal(err)
	}
	for vm, cfg := range map[string]string{
		"mine-dev":   "mounts:\n- location: " + dir + "\n  writable: true\n",
		"theirs-dev": "mounts:\n- location: " + other + "\n",
		"bare-dev":   "cpus: 2\n",
		"both-dev":   "mounts:\n- location: " + other + "\n- location: " + dir + "\n",
	} {
		os.MkdirAll(filepath.Join(home, vm), 0o700)
		if err := os.WriteFile(filepath.Join(home, vm, "lima.yaml"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return sd, home
}

func TestOwner(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	tests := []struct {
		name, reg, vm, want string
	}{
		{"registered here", dir, "reg-dev", dir},
		{"registered elsewhere", other, "reg-dev", other},
		{"registered to a directory that is gone", "/gone/api", "reg-dev", "/gone/api"},
		{"unknown", dir, "none-dev", ""},
		{"unregistered, mounts this directory", dir, "mine-dev", dir},
		{"unregistered, mounts another directory", dir, "theirs-dev", other},
		{"unregistered, mounts nothing", dir, "bare-dev", ""},
		{"unregistered, mounts this directory among others", dir, "both-dev", dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, home := ownerFixture(t, dir, tt.reg, other)
			if got := Owner(sd, home, tt.vm, dir); got != tt.want {
				t.Errorf("Owner(%s) = %q, want %q", tt.vm, got, tt.want)
			}
		})
	}
	// The registry wins over the mounts: a record names the directory.
	sd, home := ownerFixture(t, dir, other, other)
	sd.Save(state.Record{Name: "mine", Dir: other, VM: "mine-dev"})
	if got := Owner(sd, home, "mine-dev", dir); got != other {
		t.Errorf("Owner of a VM registered elsewhere that mounts dir = %q, want %q", got, other)
	}
}

// TestNothingActsOnAnotherDirectorysVM: stop, destroy, recreate and up
// refuse a VM of another directory, naming it, before they ask Lima
// anything (this Manager has no limactl to ask) or change sysvm's record.
func TestNothingActsOnAnotherDirectorysVM(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	ctx := context.Background()
	for _, vmName := range []string{"reg-dev", "theirs-dev"} {
		sd, home := ownerFixture(t, dir, other, other)
		m := &Manager{State: sd, LimaHome: home, Progress: &Progress{}}
		p := &project.Project{Dir: dir, Slug: strings.TrimSuffix(vmName, "-dev"), VM: vmName}
		s := limaconfig.Settings{}
		ops := map[string]func() error{
			"stop":     func() error { _, err := m.Stop(ctx, p); return err },
			"delete":   func() error { _, err := m.Destroy(ctx, p, true); return err },
			"recreate": func() error { _, err := m.Recreate(ctx, p, s); return err },
			"use":      func() error { _, err := m.Up(ctx, p, s); return err },
		}
		for what, op := range ops {
			t.Run(what+" "+vmName, func(t *testing.T) {
				err := op()
				if err == nil || !strings.Contains(err.Error(), "refusing to "+what+" VM "+vmName+": it belongs to "+other) {
					t.Fatalf("err = %v, want a refusal naming %s", err, other)
				}
				if hs := hint.Of(err); len(hs) == 0 || !strings.Contains(hs[0], "cd "+other) {
					t.Errorf("hints = %q", hs)
				}
				if r, ok := sd.Record("reg-dev"); !ok || r.Dir != other {
					t.Errorf("the other directory's record = %+v, %v; want it kept", r, ok)
				}
			})
		}
	}
}
