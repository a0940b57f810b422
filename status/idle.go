package status

import (
	"time"

	"github.com/sysvm/sysvm/lima"
)

// IdleStatus is the idle stop part of `sysvm status`.
type IdleStatus struct {
	// Period is the idle stop period ("30m0s"); empty when it is off.
	Period string `json:"period,omitempty"`
	// Keep means the VM's current run is kept up (`sysvm up --keep`).
	Keep bool `json:"keep,omitempty"`
	// Stopped is when idle stop stopped the VM, RFC 3339, while it stays
	// stopped.
	Stopped string `json:"stopped,omitempty"`
}

// idleStatus reads the idle stop part of the VM's record.
func (r *Reader) idleStatus(vm, vmState string) IdleStatus {
	i := r.VM.IdleState(vm)
	var st IdleStatus
	if i.Period > 0 {
		st.Period, st.Keep = time.Duration(i.Period).String(), i.Keep
	}
	if !i.Stopped.IsZero() && vmState == lima.StatusStopped {
		st.Stopped = i.Stopped.Local().Format(time.RFC3339)
	}
	return st
}
