// Package hint carries the commands a user can run to get past an error,
// and the errors that cross layers with their kind. Every layer attaches
// hints to the errors it returns with [Wrap] (or gives its error types a
// Hints method, see [Hinter]); only the CLI prints them, once, as
// `sysvm: hint:` lines after the error, and picks the exit code by the
// error's [Kind] ([KindOf]). It never prints anything itself and imports
// nothing of sysvm's.
package hint

import "errors"

// Error is an error with commands the user can run to fix it.
type Error struct {
	Err   error
	hints []string
}

func (e *Error) Error() string { return e.Err.Error() }

// Hints returns the commands that fix the error.
func (e *Error) Hints() []string { return e.hints }

// Unwrap returns the error the hints are about.
func (e *Error) Unwrap() error { return e.Err }

// Wrap attaches hints to err; a nil err stays nil.
func Wrap(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, hints: hints}
}

// Hinter is an error that knows what the user can do about it: a hint
// Error, or an error type of another package with its own hints.
type Hinter interface {
	error
	Hints() []string
}

// Of returns every hint of err and of the errors it wraps, outermost first.
func Of(err error) []string {
	var out []string
	for err != nil {
		var h Hinter
		if !errors.As(err, &h) {
			break
		}
		out = append(out, h.Hints()...)
		err = errors.Unwrap(h)
	}
	return out
}

// Usage marks err as a mistake in the command line or in a setting (the
// CLI exits 2 for it); a nil err stays nil.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err}
}

type usageError struct{ error }

func (e *usageError) Unwrap() error { return e.error }

// IsUsage reports whether err, or an error it wraps, was marked by [Usage].
func IsUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}
