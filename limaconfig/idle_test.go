package limaconfig

import (
	"testing"
	"time"
)

func TestResolveIdle(t *testing.T) {
	for _, tc := range []struct {
		name, file, env string
		want            time.Duration
		err             bool
	}{
		{"off by default", "", "", 0, false},
		{"sysvm.yaml", "idle: 30m\n", "", 30 * time.Minute, false},
		// The user's SYSVM_IDLE_STOP wins, as VM_* variables do.
		{"env over file", "idle: 30m\n", "1h", time.Hour, false},
		{"env turns it off", "idle: 30m\n", "off", 0, false},
		{"file turns it off", "idle: \"0\"\n", "", 0, false},
		{"not a period", "idle: soon\n", "", 0, true},
		// Under a second would stop a VM between two prompts.
		{"too short", "idle: 10ms\n", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := testProject(t, t.TempDir(), tc.file)
			s, err := Resolve(p, Overrides{}, func(k string) string {
				if k == EnvIdle {
					return tc.env
				}
				return ""
			})
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if s.Idle != tc.want {
				t.Errorf("idle = %s, want %s", s.Idle, tc.want)
			}
		})
	}
}
