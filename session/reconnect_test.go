package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/sshx"
)

// step is what one fake attempt does: run for a while, then end.
type step struct {
	run     time.Duration // how long the session (or the failed try) takes
	started bool
	err     error
	code    int
}

// fakeAttempts plays steps in order, recording each attempt's deadline.
type fakeAttempts struct {
	steps []step
	n     int
	until []time.Time
}

func (f *fakeAttempts) attempt(ctx context.Context, n int, until time.Time) (int, bool, error) {
	f.until = append(f.until, until)
	s := f.steps[f.n]
	f.n++
	select {
	case <-time.After(s.run):
	case <-ctx.Done():
		return -1, false, ctx.Err()
	}
	return s.code, s.started, s.err
}

var lost = &sshx.LostError{Err: errors.New("link dropped")}

func TestReconnect(t *testing.T) {
	const window = 600 * time.Millisecond
	notStarted := &sshx.NotStartedError{Err: lost}
	tests := []struct {
		name     string
		steps    []step
		wantErr  error
		wantCode int
		wantLost int
	}{
		{"clean end", []step{{code: 3, started: true}}, nil, 3, 0},
		{"other error ends at once", []step{{err: errors.New("host key changed")}}, nil, -1, 0},
		// Each drop comes after the session ran for longer than the
		// window: every one is a new loss with a window of its own.
		{"five drops, each after more than the window", []step{
			{run: window + 100*time.Millisecond, started: true, err: lost},
			{run: window + 100*time.Millisecond, started: true, err: lost},
			{run: window + 100*time.Millisecond, started: true, err: lost},
			{run: window + 100*time.Millisecond, started: true, err: lost},
			{run: window + 100*time.Millisecond, started: true, err: lost},
			{started: true},
		}, nil, 0, 5},
		// Tries that never get the session going keep the first loss's
		// window: after it, sysvm gives up. (Backoffs: 200 ms, then 400.)
		{"down for longer than the window", []step{
			{started: true, err: lost},
			{run: 100 * time.Millisecond, err: notStarted},
			{run: 300 * time.Millisecond, err: notStarted},
		}, hint.ErrUnreachable, -1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAttempts{steps: tt.steps}
			losses := 0
			code, err := reconnect(context.Background(), "x-dev", window, f.attempt, func(int) { losses++ })
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if tt.name == "other error ends at once" {
				if err == nil || f.n != 1 {
					t.Fatalf("err = %v after %d attempts, want the error after 1", err, f.n)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			if code != tt.wantCode {
				t.Errorf("code = %d, want %d", code, tt.wantCode)
			}
			if losses != tt.wantLost {
				t.Errorf("%d reconnect notices, want %d", losses, tt.wantLost)
			}
			if f.n != len(tt.steps) && tt.name != "other error ends at once" {
				t.Errorf("%d attempts, want %d", f.n, len(tt.steps))
			}
		})
	}
}

// TestReconnectDeadlines: a retry may wait for the VM only until the
// current loss's window ends.
func TestReconnectDeadlines(t *testing.T) {
	const window = time.Hour
	f := &fakeAttempts{steps: []step{{started: true, err: lost}, {}}}
	before := time.Now()
	if _, err := reconnect(context.Background(), "x-dev", window, f.attempt, func(int) {}); err != nil {
		t.Fatal(err)
	}
	if d := f.until[0].Sub(before); d < firstWait-time.Second || d > firstWait+time.Second {
		t.Errorf("first attempt waits %s, want %s", d, firstWait)
	}
	if d := f.until[1].Sub(before); d < window-time.Second || d > window+time.Second {
		t.Errorf("retry waits until %s after the loss, want %s", d, window)
	}
}

func TestReconnectInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeAttempts{steps: []step{{started: true, err: lost}, {run: time.Hour}}}
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	if _, err := reconnect(ctx, "x-dev", time.Minute, f.attempt, func(int) {}); !errors.Is(err, hint.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
}
