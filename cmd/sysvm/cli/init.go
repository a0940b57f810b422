package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/templates"
)

func (a *App) cmdInit() *cobra.Command {
	var tmpl string
	var force bool
	cmd := command("init [dir]", "Write a project template (.envrc, shell.nix, ...) into a directory", maxOneArg, func(_ *cobra.Command, args []string) error {
		dir := append(args, ".")[0]
		res, err := templates.Init(dir, tmpl, force)
		if err != nil {
			return err
		}
		// The user has just created these from sysvm's own template.
		steering, err := templates.Steering(tmpl, res)
		if err != nil {
			return err
		}
		if err := allow.Contents(a.f.StateDir(), dir, steering); err != nil {
			return err
		}
		if !a.Quiet {
			var report strings.Builder
			templates.Report(&report, dir, tmpl, res)
			a.ui.Print(report.String())
		}
		return nil
	})
	cmd.Long = `Write the files of a project template into dir (default: the current
directory), the same files ` + "`nix flake init -t github:sysvm/sysvm#TEMPLATE`" + ` writes:

  vm-dev      flake.nix, shell.nix, .envrc, .gitignore, Taskfile.yml (default)
  vm-minimal  shell.nix, .envrc, .gitignore
  vm-custom   vm-dev's files plus a commented sysvm.yaml and README.sysvm.md

Nothing is ever overwritten. A file that exists is kept as it is, except:
missing lines are added to .gitignore, and with --force the lines that load
` + "`use sysvm`" + ` are added to an .envrc that lacks them.`
	cmd.Flags().StringVarP(&tmpl, "template", "t", templates.ProjectTemplates[0],
		"the template: "+strings.Join(templates.ProjectTemplates, ", "))
	cmd.Flags().BoolVar(&force, "force", false, "append the lines that load and say \"use sysvm\" to an existing .envrc (nothing is ever overwritten)")
	return cmd
}
