package hint

import (
	"context"
	"errors"
)

// The errors that cross layers: a lower package returns them (wrapped with
// what happened) and the CLI decides the exit code by their [Kind].
var (
	// ErrInterrupted means the user pressed Ctrl-C while sysvm waited.
	ErrInterrupted = errors.New("interrupted")
	// ErrUnreachable means the VM could not be reached over SSH.
	ErrUnreachable = errors.New("VM unreachable over SSH")
	// ErrGone means the VM was deleted while sysvm was attached to it.
	ErrGone = errors.New("VM was deleted")
	// ErrNested means sysvm was asked to attach from inside a VM or a
	// local Zellij.
	ErrNested = errors.New("refusing to nest")
)

// Kind is the kind of failure an error stands for; the CLI gives each kind
// its exit code.
type Kind int

// The kinds of failure.
const (
	// KindFailure is every failure of no other kind.
	KindFailure Kind = iota
	// KindUsage is a mistake in the command line or in a setting ([Usage]).
	KindUsage
	// KindInterrupted means the user interrupted sysvm ([ErrInterrupted],
	// or a context canceled by a signal).
	KindInterrupted
	// KindUnreachable means the VM could not be reached over SSH
	// ([ErrUnreachable]).
	KindUnreachable
)

// kinds gives the kind of each cross-layer error; the first that err wraps
// wins.
var kinds = []struct {
	err  error
	kind Kind
}{
	{ErrInterrupted, KindInterrupted},
	{context.Canceled, KindInterrupted},
	{ErrUnreachable, KindUnreachable},
	{ErrGone, KindFailure},
	{ErrNested, KindFailure},
}

// KindOf returns the kind of err: [KindUsage] when it was marked by
// [Usage], else the kind of the first cross-layer error it wraps, else
// [KindFailure].
func KindOf(err error) Kind {
	if IsUsage(err) {
		return KindUsage
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return KindFailure
}
