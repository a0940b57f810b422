package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/shellhook"
	"github.com/sysvm/sysvm/templates"
)

func (a *App) cmdInit() *cobra.Command {
	var tmpl string
	var force bool
	cmd := &cobra.Command{
		Use:   "init [dir]",
		Short: "Write a project template (.envrc, shell.nix, ...) into a directory",
		Long: `Write the files of a project template into dir (default: the current
directory), the same files ` + "`nix flake init -t github:sysvm/sysvm#TEMPLATE`" + ` writes:

  vm-dev      flake.nix, shell.nix, .envrc, .gitignore, Taskfile.yml (default)
  vm-minimal  shell.nix, .envrc, .gitignore
  vm-custom   vm-dev's files plus a commented sysvm.yaml and README.sysvm.md

Nothing is ever overwritten. A file that exists is kept as it is, except:
missing lines are added to .gitignore, and with --force the lines that load
` + "`use sysvm`" + ` are added to an .envrc that lacks them.`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			res, err := templates.Init(dir, tmpl, force)
			var unknown *templates.UnknownError
			if errors.As(err, &unknown) {
				return usageError{err}
			} else if err != nil {
				return err
			}
			if err := a.allowInit(dir, tmpl, res); err != nil {
				return err
			}
			if !a.Quiet {
				a.printInit(dir, tmpl, res)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&tmpl, "template", "t", templates.ProjectTemplates[0],
		"the template: "+strings.Join(templates.ProjectTemplates, ", "))
	cmd.Flags().BoolVar(&force, "force", false, "append the lines that load and say \"use sysvm\" to an existing .envrc (nothing is ever overwritten)")
	return cmd
}

func (a *App) printInit(dir, tmpl string, res []templates.Result) {
	w := a.Out
	where := dir
	if abs, err := filepath.Abs(dir); err == nil {
		where = abs
	}
	fmt.Fprintf(w, "sysvm init: template %s in %s\n", tmpl, shown(where))
	var envrcSkipped, flake bool
	for _, r := range res {
		line := fmt.Sprintf("  %-9s %s", r.Action, r.Path)
		if r.Detail != "" {
			line += " (" + r.Detail + ")"
		}
		fmt.Fprintln(w, line)
		envrcSkipped = envrcSkipped || (r.Path == ".envrc" && r.Action == templates.Skipped)
		flake = flake || (r.Path == "flake.nix" && r.Action == templates.Wrote)
	}
	if envrcSkipped {
		again := "sysvm init --force"
		if tmpl != templates.ProjectTemplates[0] {
			again += " --template " + tmpl
		}
		if dir != "." {
			again += " " + shellWord(dir)
		}
		fmt.Fprintf(w, "\nYour .envrc does not say `use sysvm`. Add these lines to it, or run\n`%s` to have them appended:\n\n", again)
		for _, l := range strings.Split(strings.TrimSuffix(templates.EnvrcLoader, "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "\nNext:\n")
	if dir != "." {
		fmt.Fprintf(w, "  cd %s\n", shellWord(dir))
	}
	if flake {
		fmt.Fprintf(w, "  git add -A          # a flake sees only the files git tracks\n")
	}
	fmt.Fprintf(w, "  direnv allow        # loads .envrc: `use sysvm`\n")
	fmt.Fprintf(w, "  sysvm attach        # enter the VM; or add `eval \"$(sysvm hook bash)\"` to ~/.bashrc\n")
	fmt.Fprintf(w, "                      # after direnv's hook, and cd into the project enters it\n")
}

// shellWord quotes s for a shell only when it needs quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+:@%") == "" {
		return s
	}
	return shellhook.QuotePOSIX(s)
}
