package state

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestIdleRecord: the idle stop part of a record survives a save and a
// read, as the broker process reads it after a restart, and UpdateIdle
// leaves the rest of the record alone.
func TestIdleRecord(t *testing.T) {
	d := Dir(t.TempDir())
	r := Record{Name: "app", Dir: "/p/app", VM: "app-dev", Session: "app", Ports: []int{3000},
		Idle: Idle{Period: Duration(30 * time.Minute), StartedPID: 42}}
	if err := d.Save(r); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(d.Path("projects", "app-dev.json"))
	if !strings.Contains(string(b), `"idleStop": "30m0s"`) {
		t.Errorf("the period is not written as text:\n%s", b)
	}
	stopped := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := d.UpdateIdle("app-dev", func(i *Idle) { i.Stopped, i.StartedPID = stopped, 0 }); err != nil {
		t.Fatal(err)
	}
	got, ok := d.Record("app-dev")
	if !ok || got.Idle.Period != Duration(30*time.Minute) || got.Idle.StartedPID != 0 || !got.Idle.Stopped.Equal(stopped) ||
		got.Dir != "/p/app" || len(got.Ports) != 1 {
		t.Errorf("record after UpdateIdle = %+v, %v", got, ok)
	}
	// No record, nothing to update: not an error, and nothing written.
	if err := d.UpdateIdle("other-dev", func(i *Idle) { i.Keep = true }); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Record("other-dev"); ok {
		t.Error("UpdateIdle created a record")
	}
}
