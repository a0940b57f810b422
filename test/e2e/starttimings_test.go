package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sysvm/sysvm/state"
)

type lastStart struct {
	LastStart *state.StartTimings `json:"lastStart"`
}

func (e *env) lastStart(dir string) lastStart {
	e.t.Helper()
	var s lastStart
	if out := e.ok(dir, "status", "--json").Stdout; json.Unmarshal([]byte(out), &s) != nil {
		e.t.Fatalf("status --json:\n%s", out)
	}
	return s
}

// TestStartTimings: `sysvm status --json` shows the phases of sysvm's last
// start of the VM (a creation, then a restart), they add up to its total,
// sysvm's own share is the total minus the wait on limactl start, and a
// warm `sysvm up` of a running VM leaves them alone, and destroying the VM
// drops them.
func TestStartTimings(t *testing.T) {
	e := newEnv(t)
	dir := e.project("timed", "")
	if s := e.lastStart(dir); s.LastStart != nil {
		t.Fatalf("timings before any start: %+v", *s.LastStart)
	}
	check := func(kind string, after time.Time) time.Time {
		t.Helper()
		ls := e.lastStart(dir).LastStart
		if ls == nil {
			t.Fatalf("no lastStart after the %s", kind)
		}
		t.Logf("%s: total %.1f ms, own %.1f ms, phases %v", ls.Kind, ls.Total, ls.Own, ls.Phases)
		if ls.Kind != kind || ls.At.Before(after) {
			t.Errorf("lastStart is a %s at %v, want a %s after %v", ls.Kind, ls.At, kind, after)
		}
		sum := 0.0
		for _, name := range ls.Order {
			if ls.Phases[name] < 0 {
				t.Errorf("phase %s took %.3f ms", name, ls.Phases[name])
			}
			sum += ls.Phases[name]
		}
		if len(ls.Order) != len(ls.Phases) || sum > ls.Total+0.01 || sum < ls.Total*0.9 {
			t.Errorf("phases %v (order %v) add up to %.2f ms of a total of %.2f ms", ls.Phases, ls.Order, sum, ls.Total)
		}
		boot := ls.Phases["limactl-start"]
		if boot <= 0 || ls.Own < 0 || ls.Own+boot < ls.Total-0.01 || ls.Own+boot > ls.Total+0.01 {
			t.Errorf("limactl-start %.2f ms, own %.2f ms, total %.2f ms", boot, ls.Own, ls.Total)
		}
		for _, want := range []string{"config", "lock", "inspect", "limactl-version", "inspect-after"} {
			if _, ok := ls.Phases[want]; !ok {
				t.Errorf("no phase %q in %v", want, ls.Order)
			}
		}
		return ls.At
	}
	t0 := time.Now().Add(-time.Second)
	e.ok(dir, "up")
	created := check("create", t0)
	e.ok(dir, "up") // running: not a start
	if ls := e.lastStart(dir).LastStart; ls == nil || !ls.At.Equal(created) {
		t.Errorf("a warm sysvm up replaced the timings of the creation: %+v", ls)
	}
	e.ok(dir, "stop")
	t1 := time.Now().Add(-time.Second)
	e.ok(dir, "up")
	check("start", t1)
	e.ok(dir, "destroy", "--yes")
	if s := e.lastStart(dir); s.LastStart != nil {
		t.Errorf("the timings outlived the VM: %+v", *s.LastStart)
	}
}
