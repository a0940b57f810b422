// Package uitest gives tests a [ui.UI] on buffers, as cli/cli's
// iostreams.Test does: set its InTTY, OutTTY, ErrTTY and Width to play a
// terminal.
package uitest

import (
	"bytes"

	"github.com/sysvm/sysvm/ui"
)

// New returns a UI that is no terminal, reading in and writing out and
// errOut.
func New() (u *ui.UI, in, out, errOut *bytes.Buffer) {
	in, out, errOut = new(bytes.Buffer), new(bytes.Buffer), new(bytes.Buffer)
	return ui.New(in, out, errOut), in, out, errOut
}
