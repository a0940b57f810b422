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
