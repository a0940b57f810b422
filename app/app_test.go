package app

import (
	"testing"
	"time"

	"github.com/sysvm/sysvm/hint"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
		usage bool
	}{
		{"", 7 * time.Second, false}, // unset: the default
		{"90s", 90 * time.Second, false},
		{"1h30m", 90 * time.Minute, false},
		{"10", 0, true}, // no unit: a usage error, not ten nanoseconds
		{"0s", 0, true}, // zero would mean "give up at once"
		{"-5m", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		a := &App{Getenv: func(k string) string {
			if k == "SYSVM_X" {
				return tt.value
			}
			return ""
		}}
		got, err := a.duration("SYSVM_X", 7*time.Second)
		if got != tt.want || hint.IsUsage(err) != tt.usage || (err != nil) != tt.usage {
			t.Errorf("SYSVM_X=%q: got %v, %v; want %v, usage error %v", tt.value, got, err, tt.want, tt.usage)
		}
	}
}
