package vm

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/ui/uitest"
)

func TestPlanSettings(t *testing.T) {
	base := "cpus: 2\nmemory: 2GiB\ndisk: 20GiB\nenv:\n  A: x\nimages:\n- location: a.img\n"
	for _, tc := range []struct {
		name, now string
		want      settingsPlan
	}{
		{"cpus and memory", strings.NewReplacer("cpus: 2", "cpus: 4", "2GiB", "8GiB").Replace(base),
			settingsPlan{set: map[string]any{"cpus": 4, "memory": "8GiB"}}},
		{"disk grows", strings.Replace(base, "20GiB", "40GiB", 1), settingsPlan{set: map[string]any{"disk": "40GiB"}}},
		{"disk shrinks", strings.Replace(base, "20GiB", "10G", 1), settingsPlan{set: map[string]any{"disk": "10G"}, shrink: "20GiB → 10G"}},
		{"env removed, ports added", strings.Replace(base, "env:\n  A: x\n", "portForwards:\n- guestPort: 80\n", 1),
			settingsPlan{set: map[string]any{"portForwards": []any{map[string]any{"guestPort": 80}}}, removed: []string{"env"}}},
		{"image: only a new VM", strings.Replace(base, "a.img", "b.img", 1) + "vmType: vz\n",
			settingsPlan{set: map[string]any{}, recreate: []string{"images", "vmType"}}},
		{"nothing", base, settingsPlan{set: map[string]any{}}},
	} {
		got, ok := planSettings([]byte(base), []byte(tc.now))
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: planSettings = %+v, %v; want %+v", tc.name, got, ok, tc.want)
		}
	}
	if diskSize("1.5GiB") != 1.5*(1<<30) || diskSize("512M") != 512<<20 || diskSize(1024) != 1024 || diskSize("lots") != 0 {
		t.Error("diskSize")
	}
}

// settingsLimactl is a limactl 2.2.0 whose instance x-dev is Running until
// `stop`; stop and edit are recorded in calls.
func settingsLimactl(t *testing.T, home, calls string) *lima.Client {
	t.Helper()
	stopped := filepath.Join(t.TempDir(), "stopped")
	return caseLimactl(t, home, "2.2.0",
		"list) if [ -e "+stopped+" ]; then s=Stopped; else s=Running; fi; echo '{\"name\":\"x-dev\",\"status\":\"'$s'\",\"dir\":\""+home+"/x-dev\"}';;\n"+
			"stop) touch "+stopped+"; echo \"$*\" >>"+calls+";;\n"+
			"*) echo \"$*\" >>"+calls+";;\n")
}

// TestApplySettings: `sysvm up` with changed cpus stops the running VM,
// edits its config with limactl edit and records the new settings; a
// change only a new VM takes, and a shrinking disk, are not edited.
func TestApplySettings(t *testing.T) {
	for _, tc := range []struct {
		name, now string
		edit      string // the limactl edit run, "" for none
		err       string
	}{
		{"cpus", "cpus: 4\ndisk: 20GiB\n", `edit --tty=false --set .cpus = 4 x-dev`, ""},
		{"image", "cpus: 2\ndisk: 20GiB\nimages: []\n", "", ""},
		{"shrink", "cpus: 2\ndisk: 10GiB\n", "", "its disk would shrink (20GiB → 10GiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls")
			u, _, _, out := uitest.New()
			m := &Manager{Lima: settingsLimactl(t, home, calls), LimaHome: home, State: state.Dir(t.TempDir()),
				Progress: &Progress{UI: u}, ApplySettings: true}
			before := "cpus: 2\ndisk: 20GiB\n"
			m.State.SaveCreated("x-dev", []byte(before))
			p := &project.Project{Dir: t.TempDir(), Slug: "x", VM: "x-dev"}
			inst, err := m.applySettings(context.Background(), p, []byte(tc.now), &lima.Instance{Name: "x-dev", Status: lima.StatusRunning})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("applySettings = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(calls)
			rec, _ := m.State.Created("x-dev")
			if tc.edit == "" {
				if len(b) != 0 || inst.Status != lima.StatusRunning || string(rec) != before {
					t.Errorf("ran %q; status %s; record %q", b, inst.Status, rec)
				}
				return
			}
			if got := strings.Split(strings.TrimSpace(string(b)), "\n"); !reflect.DeepEqual(got, []string{"stop --tty=false x-dev", tc.edit}) {
				t.Errorf("ran %q", got)
			}
			if inst.Status != lima.StatusStopped || string(rec) != tc.now {
				t.Errorf("after: status %s, record %q", inst.Status, rec)
			}
			if !strings.Contains(out.String(), "applying changed settings without recreating the VM (its files are kept): cpus: 2 → 4") {
				t.Errorf("said %q", out.String())
			}
		})
	}
}
