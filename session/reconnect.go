package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/sshx"
)

// DefaultReconnect is how long sysvm keeps trying after one loss of the link.
const DefaultReconnect = 10 * time.Minute

// firstWait is how long the first attempt waits for sshd while a VM boots.
const firstWait = 2 * time.Minute

// attemptFunc makes one attempt: bring the VM up, connect by until, and
// run the session. started says whether the session got going (a link
// lost after that is a new loss, with a window of its own).
type attemptFunc func(ctx context.Context, n int, until time.Time) (code int, started bool, err error)

// reconnect runs attempt until it ends without a lost link. Each loss
// opens its own window: a session survives any number of drops over hours,
// each retried for up to window; a link that stays down for longer gives
// up. onLost is told before each retry.
func reconnect(ctx context.Context, vmName string, window time.Duration, attempt attemptFunc, onLost func(n int)) (int, error) {
	var lostAt time.Time
	for n := 0; ; n++ {
		until := time.Now().Add(firstWait)
		if n > 0 {
			until = lostAt.Add(window)
		}
		code, started, err := attempt(ctx, n, until)
		var lost *sshx.LostError
		switch {
		case err == nil:
			return code, nil
		case ctx.Err() != nil && errors.Is(err, hint.ErrInterrupted):
			return -1, err // it says what keeps running
		case ctx.Err() != nil:
			return -1, hint.ErrInterrupted
		case !errors.As(err, &lost):
			return -1, err
		}
		if started || lostAt.IsZero() {
			lostAt = time.Now()
		}
		if time.Since(lostAt) > window {
			return -1, hint.Wrap(fmt.Errorf("%w: gave up reconnecting to %s after %s", hint.ErrUnreachable, vmName, window), "sysvm status")
		}
		onLost(n + 1)
		select {
		case <-ctx.Done():
			return -1, hint.ErrInterrupted
		case <-time.After(backoff(n)):
		}
	}
}

// backoff grows to a cap of two seconds; connect itself polls every 300 ms,
// so once the VM answers the next try follows within a second.
func backoff(attempt int) time.Duration {
	d := time.Duration(attempt+1) * 200 * time.Millisecond
	if d > 2*time.Second {
		d = 2 * time.Second
	}
	return d
}
