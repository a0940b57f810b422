package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/lab"
)

// TestStrayInstanceDirectory: an instance directory that lost its lima.yaml
// (an interrupted create or delete) beside a healthy project. Lima ≤2.1
// fails `limactl list` as a whole over it and 2.2 lists it as Broken; in
// every version the healthy project's commands must keep working.
func TestStrayInstanceDirectory(t *testing.T) {
	for _, v := range []string{"1.2.2", "2.1.0", "2.2.0"} {
		t.Run(v, func(t *testing.T) {
			e := newEnv(t, lab.LimaVersion(v))
			dir := e.project("web", "")
			e.ok(dir, "up")
			if err := os.Mkdir(e.InstanceDir("gone-dev"), 0o700); err != nil {
				t.Fatal(err)
			}
			r := e.ok(dir, "list", "--json")
			var entries []struct{ VM, State string }
			if err := json.Unmarshal([]byte(r.Stdout), &entries); err != nil || len(entries) != 1 || entries[0].State != "Running" {
				t.Errorf("list beside a stray directory = %+v, %v:\n%s", entries, err, r)
			}
			if s := e.status(dir); s.State != "Running" {
				t.Errorf("status beside a stray directory = %+v", s)
			}
		})
	}
}

// TestHalfDeletedSibling: an instance directory without lima.yaml, left a
// while ago beside a stopped project, fails every limactl start, stop and
// delete up to Lima 2.1; sysvm moves it out of LIMA_HOME's instance
// namespace, says where, and the project starts. 2.2 skips it, and it stays.
func TestHalfDeletedSibling(t *testing.T) {
	for _, v := range []string{"1.2.2", "2.1.0", "2.2.0"} {
		t.Run(v, func(t *testing.T) {
			e, dir := stoppedProject(t, v)
			half := e.InstanceDir("gone-dev")
			if err := os.Mkdir(half, 0o700); err != nil {
				t.Fatal(err)
			}
			past := time.Now().Add(-time.Hour)
			os.Chtimes(half, past, past)
			r := e.ok(dir, "up")
			_, err := os.Stat(half)
			moved := os.IsNotExist(err)
			if moved != (v != "2.2.0") || moved != strings.Contains(r.Stderr, "_sysvm-broken/gone-dev-") {
				t.Errorf("gone-dev moved = %v:\n%s", moved, r)
			}
			if s := e.status(dir); s.State != "Running" {
				t.Errorf("status = %+v", s)
			}
		})
	}
}

// TestDestroyHalfDeleted: `sysvm destroy` of a VM whose instance directory
// lost its lima.yaml removes it, where limactl delete fails (2.2 refuses;
// up to 2.1 its network check trips over that very directory); then `up`
// creates the VM anew.
func TestDestroyHalfDeleted(t *testing.T) {
	for _, v := range []string{"1.2.2", "2.2.0"} {
		t.Run(v, func(t *testing.T) {
			e, dir := stoppedProject(t, v)
			inst := e.InstanceDir(e.status(dir).VM)
			if err := os.Remove(filepath.Join(inst, "lima.yaml")); err != nil {
				t.Fatal(err)
			}
			r := e.ok(dir, "destroy", "--yes")
			if _, err := os.Stat(inst); !os.IsNotExist(err) || !strings.Contains(r.Stderr, "removed "+inst) {
				t.Errorf("after destroy: %v\n%s", err, r)
			}
			e.ok(dir, "up")
			if s := e.status(dir); s.State != "Running" {
				t.Errorf("status after up = %+v", s)
			}
		})
	}
}

// stoppedProject is a lab of Lima version v with project "web", whose VM
// was created and stopped.
func stoppedProject(t *testing.T, v string) (*env, string) {
	t.Helper()
	e := newEnv(t, lab.LimaVersion(v))
	dir := e.project("web", "")
	e.ok(dir, "up")
	e.ok(dir, "stop")
	return e, dir
}
