// Package hint carries the commands a user can run to get past an error.
// Every layer attaches hints to the errors it returns with [Wrap]; only the
// CLI prints them, once, as `sysvm: hint:` lines after the error. It never
// prints anything itself and imports nothing of sysvm's.
package hint

import "errors"

// Error is an error with commands the user can run to fix it.
type Error struct {
	Err   error
	Hints []string
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the error the hints are about.
func (e *Error) Unwrap() error { return e.Err }

// Wrap attaches hints to err; a nil err stays nil.
func Wrap(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, Hints: hints}
}

// Of returns every hint attached to err or to an error it wraps, outermost
// first.
func Of(err error) []string {
	var out []string
	for err != nil {
		var h *Error
		if !errors.As(err, &h) {
			break
		}
		out = append(out, h.Hints...)
		err = h.Err
	}
	return out
}
