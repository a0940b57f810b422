package vm

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"gopkg.in/yaml.v3"
)

// Changed lists the settings of the project's config, as it was loaded,
// that differ from the ones its VM was created with; nil when they agree,
// when there is no config yet, or when sysvm did not create the VM.
func (m *Manager) Changed(p *project.Project) []string {
	if p.Snap.LimaConfig == nil {
		return nil
	}
	return m.changed(p.VM, p.Snap.LimaConfig)
}

func (m *Manager) changed(vm string, now []byte) []string {
	created, ok := m.State.Created(vm)
	if !ok {
		return nil
	}
	return Changes(created, now)
}

// sayChanged tells the user when the VM runs with other settings than the
// config now (now) asks for, and how to apply them.
func (m *Manager) sayChanged(p *project.Project, now []byte) {
	ch := m.changed(p.VM, now)
	if len(ch) == 0 {
		return
	}
	m.Progress.Say("%s was created with other settings: %s", p.VM, strings.Join(ch, "; "))
	created, _ := m.State.Created(p.VM)
	pl, ok := planSettings(created, now)
	switch {
	case ok && len(pl.recreate) == 0 && pl.shrink == "":
		m.Progress.Say("to apply them: sysvm up  (stops and starts the VM; what is in it is kept)")
		return
	case ok && len(pl.recreate) > 0:
		m.Progress.Say("only a new VM takes a change of %s", strings.Join(pl.recreate, ", "))
	case ok:
		m.Progress.Say("Lima cannot shrink a VM's disk (%s)", pl.shrink)
	}
	m.Progress.Say("to apply them: sysvm up --recreate  (deletes and recreates the VM; %s is kept)", p.Dir)
}

// Changes compares two Lima configs key by key and says what differs, as
// "cpus: 4 → 2" for a plain value and "portForwards changed" for others.
// Comments and key order do not count.
func Changes(before, after []byte) []string {
	var a, b map[string]any
	if yaml.Unmarshal(before, &a) != nil || yaml.Unmarshal(after, &b) != nil {
		return nil
	}
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for _, k := range sortedKeys(keys) {
		va, okA := a[k]
		vb, okB := b[k]
		switch {
		case reflect.DeepEqual(va, vb):
		case !okA:
			out = append(out, k+" added")
		case !okB:
			out = append(out, k+" removed")
		case scalar(va) && scalar(vb):
			out = append(out, fmt.Sprintf("%s: %v → %v", k, va, vb))
		default:
			out = append(out, k+" changed")
		}
	}
	return out
}

func scalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Recreate deletes the project's VM and creates it again from the current
// settings. Only the VM goes: the project's files, its config and sysvm's
// record of it stay.
func (m *Manager) Recreate(ctx context.Context, p *project.Project, s limaconfig.Settings) (*lima.Instance, error) {
	// Destroy checks again under the lock; this says what was refused.
	if err := m.checkOwner(p, "recreate", "up --recreate"); err != nil {
		return nil, err
	}
	if _, err := m.EnsureConfig(p, s); err != nil {
		return nil, err
	}
	if _, err := m.Destroy(ctx, p, false); err != nil {
		return nil, err
	}
	return m.Up(ctx, p, s)
}
