package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/session"
	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/zellij"
)

func (a *App) terminal() *sshx.Terminal {
	out, ok := a.Out.(*os.File)
	if !ok {
		out = os.Stdout
	}
	return sshx.NewTerminal(a.In, out, a.ui)
}

func (a *App) cmdAttach() *cobra.Command {
	var force, fresh bool
	cmd := command("attach [project|dir]", "Attach this terminal to the project's Zellij session in its VM", maxOneArg, func(cmd *cobra.Command, args []string) error {
		if err := session.Guard(a.Getenv, force); err != nil {
			return err
		}
		t := a.terminal()
		if !t.IsTTY() {
			return hint.Wrap(errors.New("attach needs a terminal on stdin and stdout"),
				"sysvm shell -- COMMAND  (runs a command without a terminal)")
		}
		a.askAllow = true
		p, s, err := a.projectSettings(args, limaconfig.Overrides{})
		if err != nil {
			return err
		}
		opt := session.AttachOptions{Fresh: fresh, Term: a.Getenv("TERM")}
		if opt.Reconnect, err = a.f.Duration("SYSVM_RECONNECT_TIMEOUT", session.DefaultReconnect); err != nil {
			return err
		}
		sm, err := a.f.Sessions()
		if err != nil {
			return err
		}
		return exitCode(sm.Attach(cmd.Context(), p, s, t, opt))
	})
	cmd.Long = `Bring the project's VM up (creating it the first time), connect over SSH and
attach to the project's Zellij session, creating it with the project's layout.
Detach (Ctrl-o d) to return here; attach again to find the same session.
When the connection drops, sysvm reconnects by itself: each loss is retried
for up to SYSVM_RECONNECT_TIMEOUT (default 10m).`
	cmd.Flags().BoolVar(&force, "force", false, "attach even inside a local Zellij session")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "delete a dead (EXITED) session first, so the layout applies anew")
	return cmd
}

func (a *App) cmdShell() *cobra.Command {
	return command("shell [project|dir] [-- command...]", "A login shell, or one command, in the project directory inside the VM", nil, func(cmd *cobra.Command, args []string) error {
		if a.Getenv("SYSINIT_IN_VM") != "" {
			return session.Guard(a.Getenv, true)
		}
		target, argv := args, []string(nil)
		if n := cmd.ArgsLenAtDash(); n >= 0 {
			target, argv = args[:n], args[n:]
		}
		if len(target) > 1 {
			return hint.Usage(fmt.Errorf("shell takes one project before `--`, got %d (put the command after --)", len(target)))
		}
		p, s, err := a.projectSettings(target, limaconfig.Overrides{})
		if err != nil {
			return err
		}
		sm, err := a.f.Sessions()
		if err != nil {
			return err
		}
		return exitCode(sm.Shell(cmd.Context(), p, s, a.terminal(), argv, a.Getenv("TERM")))
	})
}

func (a *App) cmdSessions() *cobra.Command {
	var asJSON bool
	return jsonFlag(command("sessions [project|dir]", "List the Zellij sessions in the project's VM", maxOneArg, func(cmd *cobra.Command, args []string) error {
		p, err := a.project(args)
		if err != nil {
			return err
		}
		sm, err := a.f.Sessions()
		if err != nil {
			return err
		}
		ss, err := sm.Sessions(cmd.Context(), p)
		switch {
		case err != nil:
			return err
		case asJSON:
			return writeJSON(a.Out, append([]zellij.Session{}, ss...))
		case len(ss) == 0:
			a.ui.Tell("no Zellij sessions in %s", p.VM)
		}
		session.WriteSessions(a.Out, ss, p.Session())
		return nil
	}), &asJSON)
}

func (a *App) cmdForgetHostKey() *cobra.Command {
	return command("forget-host-key [project|dir]", "Forget the VM's pinned SSH host key; the next connection pins the new one", maxOneArg, func(_ *cobra.Command, args []string) error {
		p, err := a.project(args)
		if err != nil {
			return err
		}
		err = a.f.StateDir().UnpinHostKey(p.VM)
		if err == nil {
			a.ui.Say("forgot the host key of %s", p.VM)
		}
		return err
	})
}
