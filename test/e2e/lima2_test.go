package e2e

import (
	"encoding/json"
	"os"
	"testing"

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
