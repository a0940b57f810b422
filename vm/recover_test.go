package vm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/lima"
)

// start runs argv and ends it by its pid when the test ends.
func start(t *testing.T, argv ...string) int {
	t.Helper()
	c := exec.Command(argv[0], argv[1:]...)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	return c.Process.Pid
}

func TestPidFiles(t *testing.T) {
	dir := t.TempDir()
	inst := &lima.Instance{Name: "x", Dir: dir, VMType: "qemu"}
	// The instance's own process names its directory, as Lima's
	// `--pidfile DIR/ha.pid` does; `sleep` is another program.
	own := start(t, "sh", "-c", "sleep 1000", filepath.Join(dir, "ha.pid"))
	other := start(t, "sleep", "1000")
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	gone := exited.Process.Pid

	for _, tc := range []struct {
		name       string
		ha, driver int
		want       string // per file: own, other, gone
		hint       string
	}{
		{"running", own, own, "ha.pid=own qemu.pid=own", "limactl stop -f x"},
		{"reused pid", other, 0, "ha.pid=other", "rm " + filepath.Join(dir, "ha.pid")},
		{"dead", gone, gone, "ha.pid=gone qemu.pid=gone", "limactl stop -f x"},
		{"driver reused", gone, other, "ha.pid=gone qemu.pid=other", "rm " + filepath.Join(dir, "qemu.pid")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, pid := range map[string]int{"ha.pid": tc.ha, "qemu.pid": tc.driver} {
				path := filepath.Join(dir, name)
				os.Remove(path)
				if pid > 0 {
					if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var got []string
			for _, pf := range inst.PIDFiles() {
				kind := "gone"
				switch {
				case pf.Alive && pf.Own:
					kind = "own"
				case pf.Alive:
					kind = "other"
				}
				got = append(got, filepath.Base(pf.Path)+"="+kind)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("pid files: %v, want %s", got, tc.want)
			}
			if h := forceStopHint(inst, "x"); !strings.HasPrefix(h, tc.hint) {
				t.Errorf("hint %q, want it to start with %q", h, tc.hint)
			}
		})
	}
}
