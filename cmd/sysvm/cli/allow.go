package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/templates"
)

func (a *App) cmdAllow() *cobra.Command {
	return &cobra.Command{
		Use:   "allow [project|dir]",
		Short: "Allow sysvm to use the project's sysvm.yaml, edited Lima config and layout as they are now",
		Long: `Like ` + "`direnv allow`" + `: sysvm uses a project's sysvm.yaml, a .lima/config.yaml you
edited (one sysvm generated needs no allow) and its Zellij layout only as
you allowed them. A file that is new or changed since is not used:
up, attach, shell and config stop and say which file, status shows it, and
attach on a terminal asks. Read the files, then run sysvm allow.

Allowed versions are recorded in sysvm's state directory (a hash per file).
` + "`sysvm init`" + ` allows the files it writes itself.`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.project(args)
			if err != nil {
				return err
			}
			files, err := allow.Allow(a.stateDir(), p)
			if err != nil || a.Quiet {
				return err
			}
			if len(files) == 0 {
				fmt.Fprintf(a.ErrOut, "sysvm: nothing to allow in %s: no sysvm.yaml, no edited Lima config, no layout\n", shown(p.Dir))
				return nil
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Rel)
			}
			fmt.Fprintf(a.ErrOut, "sysvm: allowed %s in %s\n", strings.Join(names, ", "), shown(p.Dir))
			for _, r := range allow.Reach(p, files) {
				fmt.Fprintf(a.ErrOut, "sysvm:   %s\n", shown(r))
			}
			return nil
		},
	}
}

// allowed fails with an *allow.NotAllowedError when a file of p that
// steers sysvm is new or changed since the user allowed it. With
// askAllow set and a terminal, it asks instead.
func (a *App) allowed(p *project.Project) error {
	err := allow.Check(a.stateDir(), p)
	var na *allow.NotAllowedError
	if !errors.As(err, &na) || !a.askAllow || !a.stdinTTY() {
		return err
	}
	fmt.Fprintf(a.ErrOut, "sysvm: %s\n", shown(na.Error()))
	ok, cerr := a.confirm("Allow them as they are now?", "", "")
	if cerr != nil || !ok {
		return err
	}
	_, err = allow.Allow(a.stateDir(), p)
	return err
}

// allowInit allows the files `sysvm init` wrote that steer sysvm: the
// user has just created them from sysvm's own template.
func (a *App) allowInit(dir, tmpl string, res []templates.Result) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	files := map[string][]byte{}
	for _, r := range res {
		steers := r.Path == project.FileName || r.Path == project.LayoutFile
		if steers && (r.Action == templates.Wrote || r.Action == templates.Unchanged) {
			b, err := fs.ReadFile(templates.Projects, path.Join(tmpl, r.Path))
			if err != nil {
				return err
			}
			files[r.Path] = b
		}
	}
	if len(files) == 0 {
		return nil
	}
	return allow.Contents(a.stateDir(), abs, files)
}
