package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/shellhook"
)

// self returns the path of the running sysvm, symlinks resolved.
func self() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the sysvm executable: %w", err)
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return p, nil
}

func (a *App) cmdHook() *cobra.Command {
	return &cobra.Command{
		Use:   "hook bash|zsh|fish",
		Short: "Print the shell hook that enters the project's VM when you cd into it",
		Long: `Print the prompt hook for your shell. Add it after direnv's hook:

  bash  ~/.bashrc                  eval "$(sysvm hook bash)"
  zsh   ~/.zshrc                   eval "$(sysvm hook zsh)"
  fish  ~/.config/fish/config.fish sysvm hook fish | source

When direnv has loaded a project (` + "`use sysvm`" + ` in its .envrc), the hook runs
` + "`sysvm attach`" + ` once per entry, in interactive shells with a terminal only.
It never enters with CI set, inside the VM, inside a local Zellij (unless
SYSVM_ALLOW_IN_ZELLIJ=1), in editor environment probes, or with
SYSINIT_NO_AUTO_VM set to anything but empty, 0, false or no.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("hook needs one shell: %v", shellhook.Names())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			sh, err := shellhook.Lookup(args[0])
			if err != nil {
				return usageError{err}
			}
			exe, err := self()
			if err != nil {
				return err
			}
			text, err := sh.Hook(exe)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(a.Out, text)
			return err
		},
	}
}

func (a *App) cmdDirenvrc() *cobra.Command {
	var install bool
	cmd := &cobra.Command{
		Use:   "direnvrc",
		Short: "Print (or --install) direnv's `use sysvm` library",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := self()
			if err != nil {
				return err
			}
			text := shellhook.Direnvrc(exe)
			if !install {
				_, err = fmt.Fprint(a.Out, text)
				return err
			}
			path, err := shellhook.InstallDirenvrc(a.Getenv("XDG_CONFIG_HOME"), text)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.ErrOut, "sysvm: wrote %s; `use sysvm` now works in any .envrc\n", path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&install, "install", false, "write it to ~/.config/direnv/lib/sysvm.sh")
	return cmd
}

// cmdDirenvExport prints the variables `use sysvm` exports. It is fast and
// silent on stdout apart from the exports: direnv evaluates them.
func (a *App) cmdDirenvExport() *cobra.Command {
	return &cobra.Command{
		Use:    "direnv-export [dir]",
		Short:  "Print the exports of `use sysvm` (used by the direnv library)",
		Hidden: true,
		Args:   maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			p, err := project.Lookup(abs, a.projectOptions(), a.stateDir().Known)
			if err != nil {
				return err
			}
			helpers, err := a.ensureHelpers()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(a.Out, shellhook.Exports(map[string]string{
				"SYSVM_PROJECT_DIR":  p.Dir,
				"SYSVM_PROJECT":      p.Slug,
				"SYSVM_VM":           p.VM,
				"SYSVM_HELPERS":      helpers,
				"SYSINIT_VM_ENABLED": "1",
				"SYSINIT_VM_NAME":    p.VM,
			}))
			return err
		},
	}
}

// ensureHelpers makes the directory of helper commands (vm-shell, ...):
// symlinks to this sysvm, which dispatches on the name it was run as.
func (a *App) ensureHelpers() (string, error) {
	exe, err := self()
	if err != nil {
		return "", err
	}
	dir, err := a.stateDir().MkdirAll("bin")
	if err != nil {
		return "", err
	}
	return dir, shellhook.LinkHelpers(dir, exe)
}
