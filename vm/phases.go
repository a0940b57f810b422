package vm

import (
	"time"

	"github.com/sysvm/sysvm/state"
)

// phases times the steps of one start; each mark closes the step that
// began at the previous one. A nil *phases does nothing.
type phases struct {
	began, last time.Time
	t           state.StartTimings
}

func newPhases() *phases {
	now := time.Now()
	return &phases{began: now, last: now, t: state.StartTimings{At: now, Phases: map[string]float64{}}}
}

func (p *phases) mark(name string) {
	if p == nil {
		return
	}
	now := time.Now()
	if _, ok := p.t.Phases[name]; !ok {
		p.t.Order = append(p.t.Order, name)
	}
	p.t.Phases[name] += float64(now.Sub(p.last).Microseconds()) / 1000
	p.last = now
}

// phaseLimactlStart is the phase that waits on `limactl start`.
const phaseLimactlStart = "limactl-start"

func (p *phases) done(kind string) state.StartTimings {
	p.t.Kind = kind
	p.t.Total = float64(time.Since(p.began).Microseconds()) / 1000
	p.t.Own = p.t.Total - p.t.Phases[phaseLimactlStart]
	return p.t
}

// LastStart returns the phase timings of sysvm's last start of vm.
func (m *Manager) LastStart(vm string) *state.StartTimings {
	t, _ := m.State.StartTimings(vm)
	return t
}
