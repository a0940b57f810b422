package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/display"
)

func (a *App) cmdAllow() *cobra.Command {
	cmd := command("allow [project|dir]", "Allow sysvm to use the project's sysvm.yaml, edited Lima config and layout as they are now", maxOneArg, func(_ *cobra.Command, args []string) error {
		p, err := a.project(args)
		if err != nil {
			return err
		}
		files, err := allow.Allow(a.f.StateDir(), p)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			a.ui.Say("nothing to allow in %s: no sysvm.yaml, no edited Lima config, no layout", p.Dir)
			return nil
		}
		var names []string
		for _, f := range files {
			names = append(names, display.Line(f.Rel))
		}
		a.ui.Say("allowed %s in %s", strings.Join(names, ", "), p.Dir)
		for _, r := range allow.Reach(p, files) {
			a.ui.Say("  %s", r)
		}
		return nil
	})
	cmd.Long = `Like ` + "`direnv allow`" + `: sysvm uses a project's sysvm.yaml, a .lima/config.yaml you
edited (one sysvm generated needs no allow) and its Zellij layout only as
you allowed them. A file that is new or changed since is not used:
up, attach, shell and config stop and say which file, status shows it, and
attach on a terminal asks. Read the files, then run sysvm allow.

Allowed versions are recorded in sysvm's state directory (a hash per file).
` + "`sysvm init`" + ` allows the files it writes itself.`
	return cmd
}
