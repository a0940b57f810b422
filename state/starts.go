package state

import (
	"encoding/json"
	"os"
	"time"

	"github.com/sysvm/sysvm/files"
)

// StartTimings is how long each phase of sysvm's last start of a VM took,
// kept as starts/<vm>.json: sysvm's own work around the boot is Total minus
// the "limactl-start" phase.
type StartTimings struct {
	// At is when the start began.
	At time.Time `json:"at"`
	// Kind is "create" or "start".
	Kind string `json:"kind"`
	// Phases maps each phase, in the order of Order, to its milliseconds.
	Phases map[string]float64 `json:"phases"`
	// Order lists the phases as they ran.
	Order []string `json:"order"`
	// Total is the whole start in milliseconds, from reading the project's
	// config to the VM running.
	Total float64 `json:"total"`
	// Own is Total minus the phases that wait on limactl start: sysvm's
	// own share.
	Own float64 `json:"own"`
}

// SaveStartTimings records the timings of vm's last start.
func (d Dir) SaveStartTimings(vm string, t StartTimings) error {
	return d.saveJSON(t, "starts", vm+".json")
}

// StartTimings returns the timings of vm's last start by sysvm, if any.
func (d Dir) StartTimings(vm string) (*StartTimings, bool) {
	b, err := os.ReadFile(d.Path("starts", vm+".json"))
	if err != nil {
		return nil, false
	}
	var t StartTimings
	if json.Unmarshal(b, &t) != nil {
		return nil, false
	}
	return &t, true
}

// ForgetStartTimings drops the timings of vm's last start (the VM is gone).
func (d Dir) ForgetStartTimings(vm string) error {
	return files.Remove(d.Path("starts", vm+".json"))
}
