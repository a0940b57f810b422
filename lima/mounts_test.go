package lima

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMounts(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, cfg string
		want      []string
		wantErr   bool
	}{
		{"none", "cpus: 2\n", nil, false},
		{"absolute", "mounts:\n- location: /srv/x/\n  writable: true\n", []string{"/srv/x"}, false},
		{"home", "mounts:\n- location: \"~\"\n- location: ~/src\n", []string{home, filepath.Join(home, "src")}, false},
		{"symlink resolved", "mounts:\n- location: " + link + "\n", []string{real}, false},
		{"empty location skipped", "mounts:\n- mountPoint: /x\n", nil, false},
		{"not YAML", "mounts: [\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := &Instance{Dir: t.TempDir()}
			os.WriteFile(filepath.Join(inst.Dir, "lima.yaml"), []byte(tt.cfg), 0o600)
			got, err := inst.Mounts()
			if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Mounts = %q, %v; want %q (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if got, err := (&Instance{Dir: t.TempDir()}).Mounts(); got != nil || err != nil {
		t.Errorf("Mounts without a config = %q, %v; want nothing", got, err)
	}
}
