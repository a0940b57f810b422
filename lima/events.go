package lima

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
)

// haEvent is the part of a host agent event (one JSON object per line of
// the instance's event log) sysvm reads.
type haEvent struct {
	Status struct {
		Running  bool `json:"running"`
		Degraded bool `json:"degraded"`
		Exiting  bool `json:"exiting"`
	} `json:"status"`
}

// StartedDegraded reports whether the host agent's last event that says
// running or exiting says the VM runs degraded: the structured answer
// behind `limactl start`'s exit 1 with "degraded, status=…", whose wording
// sysvm does not rely on. Events that say neither are skipped: in 2.x the
// cloud-init and port-forward watchers send a copy of the status taken
// without a lock, which can land after the degraded "running" event with
// `running: false` (Lima v2.2.0 pkg/hostagent/hostagent.go:353-383), and `limactl start` itself ends at the first event that
// says running or exiting (pkg/instance/start.go:391-400).
func (i *Instance) StartedDegraded() bool {
	b, err := os.ReadFile(i.events())
	if err != nil {
		return false
	}
	var last haEvent
	for _, line := range bytes.Split(b, []byte("\n")) {
		var ev haEvent
		if json.Unmarshal(line, &ev) == nil && (ev.Status.Running || ev.Status.Exiting) {
			last = ev
		}
	}
	return last.Status.Running && last.Status.Degraded && !last.Status.Exiting
}

// Booted reads the host agent's events: the boot is done once an event
// says running (or exiting), or when there are none to read.
func (i *Instance) Booted() bool {
	b, err := os.ReadFile(i.events())
	if err != nil {
		return true
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var ev haEvent
		if json.Unmarshal(line, &ev) == nil && (ev.Status.Running || ev.Status.Exiting) {
			return true
		}
	}
	return len(bytes.TrimSpace(b)) == 0
}

func (i *Instance) events() string { return filepath.Join(i.Dir, haEventsFile) }
