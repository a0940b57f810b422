package state

import (
	"encoding/json"
	"os"
	"time"
)

// Idle is what idle stop needs to know about a project's VM. It lives in
// the project's record so the broker process reads it after a restart.
type Idle struct {
	// Period is the idle stop period; 0 means idle stop is off.
	Period Duration `json:"idleStop,omitempty"`
	// StartedPID is the host agent pid of the run sysvm started: a VM
	// whose current host agent differs was started by someone else.
	StartedPID int `json:"startedPID,omitempty"`
	// Keep means the user asked to keep this run up (`sysvm up --keep`).
	Keep bool `json:"keep,omitempty"`
	// Stopped is when idle stop last stopped the VM; zero once it starts.
	Stopped time.Time `json:"idleStopped,omitzero"`
}

// Duration is a time.Duration written as text ("30m0s") in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Record returns the record of vm, if sysvm has one.
func (d Dir) Record(vm string) (Record, bool) {
	b, err := os.ReadFile(d.Path("projects", vm+".json"))
	if err != nil {
		return Record{}, false
	}
	var r Record
	if json.Unmarshal(b, &r) != nil || r.VM != vm {
		return Record{}, false
	}
	return r, true
}

// UpdateIdle changes the idle part of vm's record, if sysvm has one. The
// caller holds the VM's lock, so no other sysvm writes the record meanwhile.
func (d Dir) UpdateIdle(vm string, change func(*Idle)) error {
	r, ok := d.Record(vm)
	if !ok {
		return nil
	}
	change(&r.Idle)
	return d.Save(r)
}
