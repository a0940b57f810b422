package vm

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/project"
	"gopkg.in/yaml.v3"
)

// Changed settings applied to the VM that exists, where Lima can: a
// stopped instance takes new cpus, memory, a bigger disk, ports, env,
// mounts and provisioning at its next start (`limactl edit --set`, see
// lima.Client.Edit); only a new VM takes another image, arch, vmType or
// mountType.

// editable are the top-level keys of a Lima config that `limactl edit`
// changes on a stopped instance, and its next start applies.
var editable = map[string]bool{
	"cpus": true, "memory": true, "disk": true, "portForwards": true,
	"env": true, "mounts": true, "provision": true,
}

// settingsPlan is what applying changed settings takes.
type settingsPlan struct {
	// set and removed are the editable keys that changed.
	set     map[string]any
	removed []string
	// recreate are the changed keys only a new VM applies.
	recreate []string
	// shrink, if set, says that the disk would shrink, which Lima cannot do.
	shrink string
}

// planSettings compares the config the VM was made with (before) with the
// one now asked for; ok is false when either is not a YAML map.
func planSettings(before, now []byte) (pl settingsPlan, ok bool) {
	var a, b map[string]any
	if yaml.Unmarshal(before, &a) != nil || yaml.Unmarshal(now, &b) != nil {
		return pl, false
	}
	pl.set = map[string]any{}
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		va, okA := a[k]
		vb, okB := b[k]
		switch {
		case reflect.DeepEqual(va, vb):
		case !editable[k]:
			pl.recreate = append(pl.recreate, k)
		case !okB:
			pl.removed = append(pl.removed, k)
		default:
			pl.set[k] = vb
		}
		if k == "disk" && okA && okB {
			if from, to := diskSize(va), diskSize(vb); from > 0 && to > 0 && to < from {
				pl.shrink = fmt.Sprintf("%v → %v", va, vb)
			}
		}
	}
	return pl, true
}

// changed reports whether the plan changes anything.
func (pl settingsPlan) changed() bool {
	return len(pl.set)+len(pl.removed)+len(pl.recreate) > 0
}

// diskSize reads a Lima size ("100GiB", "20G", "512MiB", a number of
// bytes) the way Lima does (go-units RAMInBytes: every suffix binary);
// 0 when it cannot.
func diskSize(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		s = strings.TrimSuffix(strings.TrimSuffix(s, "b"), "i")
		mult := 1.0
		if n := len(s); n > 0 {
			if i := strings.IndexByte("kmgtp", s[n-1]); i >= 0 {
				for range i + 1 {
					mult *= 1024
				}
				s = strings.TrimSpace(s[:n-1])
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0
		}
		return f * mult
	}
	return 0
}

// applySettings, for `sysvm up` (ApplySettings), applies the settings that
// changed since sysvm made the VM when Lima can apply them without a new
// VM: it says what changed, stops the VM if it runs, edits its Lima
// config and returns the VM as it is then (stopped; Ensure starts it).
// When only a new VM can apply them it leaves the VM as it is (sayChanged
// tells the user), and a disk that would shrink is an error.
func (m *Manager) applySettings(ctx context.Context, p *project.Project, now []byte, inst *lima.Instance) (*lima.Instance, error) {
	created, ok := m.State.Created(p.VM)
	if !ok || !m.ApplySettings || inst.Status != lima.StatusRunning && inst.Status != lima.StatusStopped {
		return inst, nil
	}
	pl, ok := planSettings(created, now)
	if !ok || !pl.changed() || len(pl.recreate) > 0 {
		return inst, nil
	}
	if pl.shrink != "" {
		return nil, hint.Wrap(fmt.Errorf("cannot apply the settings of %s: its disk would shrink (%s), and Lima can only grow a VM's disk", p.VM, pl.shrink),
			"keep the disk size in "+project.FileName+" (or your edited config), or",
			"sysvm up --recreate  (a new VM with the smaller disk; everything in the VM that is not in "+p.Dir+" is lost)")
	}
	if _, err := lima.SetExpression(pl.set, pl.removed); err != nil {
		m.Progress.Say("%s: sysvm cannot hand these settings to limactl edit (%v); to apply them: sysvm up --recreate", p.VM, err)
		return inst, nil
	}
	m.Progress.Say("%s: applying changed settings without recreating the VM (its files are kept): %s", p.VM, strings.Join(Changes(created, now), "; "))
	if inst.Status == lima.StatusRunning {
		m.Progress.Say("stopping %s to apply them", p.VM)
		m.moveHalfDeletedSiblings(ctx, p.VM)
		if err := m.Lima.Stop(ctx, p.VM, false); err != nil {
			return nil, hint.Wrap(err, fmt.Sprintf("limactl stop -f %s  (forces it off), then sysvm up", p.VM))
		}
	}
	if err := m.Lima.Edit(ctx, p.VM, pl.set, pl.removed); err != nil {
		return nil, hint.Wrap(err, "sysvm up --recreate  (applies them to a new VM)")
	}
	// The record is what the VM now runs with.
	if _, err := m.State.SaveCreated(p.VM, now); err != nil {
		return nil, err
	}
	return m.Inspect(ctx, p.VM)
}
