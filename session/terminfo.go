package session

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"

	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/zellij"
)

// termName is what a terminfo name may be made of; anything else is not
// looked up at all.
var termName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// guestTerm returns the TERM for a session in the VM: the host's term when
// the guest knows it, or once sysvm has brought the host's entry into the
// guest's ~/.terminfo (`infocmp -x` here, `tic -x` there); else
// zellij.FallbackTerm, with one note on t. An error means the link failed.
func guestTerm(ctx context.Context, c link, t *sshx.Terminal, term string) (string, error) {
	if term == "" || term == zellij.FallbackTerm {
		return term, nil
	}
	why := "not a terminfo name"
	if termName.MatchString(term) {
		_, _, code, err := output(ctx, c, zellij.Command{Argv: zellij.HasTerminfoArgv(term)}.Line(), nil)
		if err != nil || code == 0 {
			return term, err
		}
		why = "this host has none to bring either (infocmp -x " + term + ")"
		if entry, herr := exec.CommandContext(ctx, "infocmp", "-x", "--", term).Output(); herr == nil && len(entry) > 0 {
			_, errOut, code, err := output(ctx, c, zellij.Command{Argv: zellij.InstallTerminfoArgv(term)}.Line(), bytes.NewReader(entry))
			if err != nil || code == 0 {
				return term, err
			}
			why = fmt.Sprintf("installing this host's into ~/.terminfo failed (exit %d): %s", code, strings.TrimSpace(string(errOut)))
		}
	}
	t.UI.Note("the VM has no terminfo entry for TERM=%s: %s; the session uses TERM=%s", term, why, zellij.FallbackTerm)
	return zellij.FallbackTerm, nil
}
