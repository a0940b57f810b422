package lima

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartedDegraded(t *testing.T) {
	tests := []struct {
		name, events string
		want         bool
	}{
		{"running degraded", `{"status":{"running":true,"degraded":true,"sshLocalPort":2222}}`, true},
		{"running", `{"status":{"running":true}}`, false},
		{"degraded then exiting", `{"status":{"running":true,"degraded":true}}` + "\n" + `{"status":{"exiting":true,"degraded":true}}`, false},
		{"still booting", `{"status":{"sshLocalPort":2222}}`, false},
		{"no log", "", false},
		{"degraded, then a late copy with running false", `{"status":{"running":true,"degraded":true}}` + "\n" + `{"status":{"running":false,"cloudInitProgress":{"active":true}}}`, true},
		{"degraded, then several late copies", `{"status":{"sshLocalPort":2222}}` + "\n" + `{"status":{"running":true,"degraded":true}}` + "\n" + `{"status":{"running":false}}` + "\n" + `{"status":{"running":false,"cloudInitProgress":{"completed":true}}}`, true},
		{"healthy, then a late copy", `{"status":{"running":true}}` + "\n" + `{"status":{"running":false}}`, false},
		{"late copy, then degraded then exiting", `{"status":{"running":true,"degraded":true}}` + "\n" + `{"status":{"running":false}}` + "\n" + `{"status":{"exiting":true}}`, false},
		{"not yet running", `{"status":{"running":false}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := &Instance{Dir: t.TempDir()}
			if tt.events != "" {
				os.WriteFile(filepath.Join(inst.Dir, "ha.stdout.log"), []byte(tt.events+"\n"), 0o644)
			}
			if got := inst.StartedDegraded(); got != tt.want {
				t.Errorf("startedDegraded = %v, want %v", got, tt.want)
			}
		})
	}
}
