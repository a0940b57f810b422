package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/scaffold"
)

func (a *App) cmdInit() *cobra.Command {
	var tmpl string
	var force bool
	cmd := command("init [dir]", "Write a project template (.envrc, shell.nix, ...) into a directory", maxOneArg, func(_ *cobra.Command, args []string) error {
		dir := append(args, ".")[0]
		var report strings.Builder
		err := scaffold.Run(dir, scaffold.Options{Template: tmpl, Force: force, Report: &report,
			Allow: func(dir string, files map[string][]byte) error { return allow.Contents(a.f.StateDir(), dir, files) }})
		if !a.Quiet {
			a.ui.Print(report.String())
		}
		return err
	})
	cmd.Long = `Write the files of a project template into dir (default: the current
directory), the same files ` + "`nix flake init -t github:sysvm/sysvm#TEMPLATE`" + ` writes:

  vm-dev      flake.nix, shell.nix, .envrc, .gitignore, Taskfile.yml (default)
  vm-minimal  shell.nix, .envrc, .gitignore
  vm-custom   vm-dev's files plus a commented sysvm.yaml and README.sysvm.md

Nothing is ever overwritten. A file that exists is kept as it is, except:
missing lines are added to .gitignore, and with --force the lines that load
` + "`use sysvm`" + ` are added to an .envrc that lacks them.`
	names := scaffold.Templates()
	cmd.Flags().StringVarP(&tmpl, "template", "t", names[0], "the template: "+strings.Join(names, ", "))
	cmd.Flags().BoolVar(&force, "force", false, "append the lines that load and say \"use sysvm\" to an existing .envrc (nothing is ever overwritten)")
	return cmd
}
