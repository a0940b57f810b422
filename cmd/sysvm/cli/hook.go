package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/factory"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/shellhook"
)

func (a *App) cmdHook() *cobra.Command {
	cmd := command("hook bash|zsh|fish", "Print the shell hook that enters the project's VM when you cd into it", cobra.ArbitraryArgs, func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return hint.Usage(fmt.Errorf("hook needs one shell: %v", shellhook.Names()))
		}
		sh, err := shellhook.Lookup(args[0])
		if err != nil {
			return hint.Usage(err)
		}
		exe, err := factory.Self()
		if err != nil {
			return err
		}
		text, err := sh.Hook(exe)
		if err == nil {
			_, err = fmt.Fprint(a.Out, text)
		}
		return err
	})
	cmd.Long = `Print the prompt hook for your shell. Add it after direnv's hook:

  bash  ~/.bashrc                  eval "$(sysvm hook bash)"
  zsh   ~/.zshrc                   eval "$(sysvm hook zsh)"
  fish  ~/.config/fish/config.fish sysvm hook fish | source

When direnv has loaded a project (` + "`use sysvm`" + ` in its .envrc), the hook runs
` + "`sysvm attach`" + ` once per entry, in interactive shells with a terminal only.
It never enters with CI set, inside the VM, inside a local Zellij (unless
SYSVM_ALLOW_IN_ZELLIJ=1), in editor environment probes, or with
SYSINIT_NO_AUTO_VM set to anything but empty, 0, false or no.`
	return cmd
}

func (a *App) cmdDirenvrc() *cobra.Command {
	var install bool
	cmd := command("direnvrc", "Print (or --install) direnv's `use sysvm` library", noArgs, func(*cobra.Command, []string) error {
		exe, err := factory.Self()
		if err != nil {
			return err
		}
		text := shellhook.Direnvrc(exe)
		if !install {
			_, err = fmt.Fprint(a.Out, text)
			return err
		}
		path, err := shellhook.InstallDirenvrc(a.Getenv("XDG_CONFIG_HOME"), text)
		if err == nil {
			a.ui.Tell("wrote %s; `use sysvm` now works in any .envrc", path)
		}
		return err
	})
	cmd.Flags().BoolVar(&install, "install", false, "write it to ~/.config/direnv/lib/sysvm.sh")
	return cmd
}

// cmdDirenvExport prints the variables `use sysvm` exports. It is fast and
// silent on stdout apart from the exports: direnv evaluates them.
func (a *App) cmdDirenvExport() *cobra.Command {
	cmd := command("direnv-export [dir]", "Print the exports of `use sysvm` (used by the direnv library)", maxOneArg, func(_ *cobra.Command, args []string) error {
		exports, err := a.f.DirenvExports(append(args, ".")[0])
		if err == nil {
			_, err = fmt.Fprint(a.Out, exports)
		}
		return err
	})
	cmd.Hidden = true
	return cmd
}
