package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/session"
	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/zellij"
)

func (a *App) terminal() *sshx.Terminal { return sshx.NewTerminal(a.In, a.outFile(), a.ErrOut) }

func (a *App) cmdAttach() *cobra.Command {
	var force, fresh bool
	cmd := &cobra.Command{
		Use:   "attach [project|dir]",
		Short: "Attach this terminal to the project's Zellij session in its VM",
		Long: `Bring the project's VM up (creating it the first time), connect over SSH and
attach to the project's Zellij session, creating it with the project's layout.
Detach (Ctrl-o d) to return here; attach again to find the same session.
When the connection drops, sysvm reconnects by itself: each loss is retried
for up to SYSVM_RECONNECT_TIMEOUT (default 10m).`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
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
			if opt.Reconnect, err = a.durationEnv("SYSVM_RECONNECT_TIMEOUT", session.DefaultReconnect); err != nil {
				return err
			}
			sm, err := a.sessions()
			if err != nil {
				return err
			}
			return exitCode(sm.Attach(cmd.Context(), p, s, t, opt))
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "attach even inside a local Zellij session")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "delete a dead (EXITED) session first, so the layout applies anew")
	return cmd
}

// exitCode passes a remote command's exit status through as sysvm's own.
func exitCode(code int, err error) error {
	if err != nil || code == 0 {
		return err
	}
	return &ExitError{Code: code}
}

func (a *App) cmdShell() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shell [project|dir] [-- command...]",
		Short: "A login shell, or one command, in the project directory inside the VM",
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.Getenv("SYSINIT_IN_VM") != "" {
				return session.Guard(a.Getenv, true)
			}
			var target, argv []string
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				target, argv = args[:n], args[n:]
			} else {
				target = args
			}
			if len(target) > 1 {
				return usageError{fmt.Errorf("shell takes one project before `--`, got %d (put the command after --)", len(target))}
			}
			p, s, err := a.projectSettings(target, limaconfig.Overrides{})
			if err != nil {
				return err
			}
			sm, err := a.sessions()
			if err != nil {
				return err
			}
			return exitCode(sm.Shell(cmd.Context(), p, s, a.terminal(), argv, a.Getenv("TERM")))
		},
	}
	return cmd
}

func (a *App) cmdSessions() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "sessions [project|dir]",
		Short: "List the Zellij sessions in the project's VM",
		Args:  maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.project(args)
			if err != nil {
				return err
			}
			sm, err := a.sessions()
			if err != nil {
				return err
			}
			ss, err := sm.Sessions(cmd.Context(), p)
			if err != nil {
				return err
			}
			if asJSON {
				if ss == nil {
					ss = []zellij.Session{}
				}
				return writeJSON(a.Out, ss)
			}
			if len(ss) == 0 {
				fmt.Fprintln(a.ErrOut, "sysvm: no Zellij sessions in", p.VM)
			}
			for _, s := range ss {
				mark := ""
				if s.Name == p.Session() {
					mark = "  (this project)"
				}
				fmt.Fprintf(a.Out, "%s\t%s\tcreated %s ago%s\n", s.Name, s.State(), s.Created, mark)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *App) cmdForgetHostKey() *cobra.Command {
	return &cobra.Command{
		Use:   "forget-host-key [project|dir]",
		Short: "Forget the VM's pinned SSH host key; the next connection pins the new one",
		Args:  maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.project(args)
			if err != nil {
				return err
			}
			if err := a.stateDir().UnpinHostKey(p.VM); err != nil {
				return err
			}
			if !a.Quiet {
				fmt.Fprintf(a.ErrOut, "sysvm: forgot the host key of %s\n", p.VM)
			}
			return nil
		},
	}
}
