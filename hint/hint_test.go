package hint

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestOf(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"none", base, nil},
		{"nil", nil, nil},
		{"one", Wrap(base, "a", "b"), []string{"a", "b"}},
		// Wrapped again with %w: the hints still reach the CLI.
		{"wrapped", fmt.Errorf("ctx: %w", Wrap(base, "a")), []string{"a"}},
		// Hints added at two layers: the outer (closer to the user) first.
		{"nested", Wrap(fmt.Errorf("outer: %w", Wrap(base, "inner")), "outer"), []string{"outer", "inner"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Of = %q, want %q", got, tt.want)
			}
		})
	}
	if Wrap(nil, "x") != nil {
		t.Error("Wrap(nil) is not nil")
	}
	if !errors.Is(Wrap(base, "x"), base) {
		t.Error("Wrap hides the error from errors.Is")
	}
}

// own is an error type of another package that carries its own hints.
type own struct{ err error }

func (o own) Error() string   { return "own" }
func (o own) Hints() []string { return []string{"own hint"} }
func (o own) Unwrap() error   { return o.err }

func TestOfHinterTypes(t *testing.T) {
	err := Wrap(fmt.Errorf("ctx: %w", own{err: Wrap(errors.New("root"), "root hint")}), "outer")
	if got, want := Of(err), []string{"outer", "own hint", "root hint"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Of = %q, want %q", got, want)
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"plain", errors.New("boom"), KindFailure},
		{"usage", fmt.Errorf("ctx: %w", Usage(errors.New("bad flag"))), KindUsage},
		// A usage mistake that wraps another kind is still a usage mistake.
		{"usage over unreachable", Usage(ErrUnreachable), KindUsage},
		{"interrupted", Wrap(fmt.Errorf("%w: stopped waiting", ErrInterrupted), "sysvm status"), KindInterrupted},
		{"canceled", fmt.Errorf("dialing: %w", context.Canceled), KindInterrupted},
		{"unreachable", Wrap(fmt.Errorf("%w: gave up", ErrUnreachable), "sysvm status"), KindUnreachable},
		{"gone", fmt.Errorf("%w: x-dev no longer exists", ErrGone), KindFailure},
		{"nested", Wrap(fmt.Errorf("%w: inside a VM", ErrNested), "detach"), KindFailure},
		// Interrupted while it tried to reach the VM: the interruption wins.
		{"interrupted and unreachable", fmt.Errorf("%w (%w)", ErrInterrupted, ErrUnreachable), KindInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
