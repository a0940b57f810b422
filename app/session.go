package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/session"
	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/ui"
	"github.com/sysvm/sysvm/zellij"
)

// terminal is the user's terminal for a session: stdin and stdout.
func (a *App) terminal() *sshx.Terminal {
	in, _ := a.UI.In.(*os.File)
	out, ok := a.UI.Out.(*os.File)
	if !ok {
		out = os.Stdout
	}
	return sshx.NewTerminal(in, out, a.UI)
}

// AttachOptions are `sysvm attach`'s flags.
type AttachOptions struct {
	// Force attaches even inside a local Zellij session.
	Force bool
	// Fresh deletes a dead session first (see session.AttachOptions).
	Fresh bool
}

// Attach attaches the terminal to the project's Zellij session in its VM
// (see session.Manager.Attach); files not allowed yet are asked about on a
// terminal. It returns the remote exit status.
func (a *App) Attach(ctx context.Context, arg string, o AttachOptions) (int, error) {
	if err := session.Guard(a.Getenv, o.Force); err != nil {
		return 0, err
	}
	t := a.terminal()
	if !t.IsTTY() {
		return 0, hint.Wrap(errors.New("attach needs a terminal on stdin and stdout"),
			"sysvm shell -- COMMAND  (runs a command without a terminal)")
	}
	p, s, err := a.openAllowed(arg, Overrides{}, true)
	if err != nil {
		return 0, err
	}
	opt := session.AttachOptions{Fresh: o.Fresh, Term: a.Getenv("TERM")}
	if opt.Reconnect, err = a.duration("SYSVM_RECONNECT_TIMEOUT", session.DefaultReconnect); err != nil {
		return 0, err
	}
	sm, err := a.sessions()
	if err != nil {
		return 0, err
	}
	return sm.Attach(ctx, p, s, t, opt)
}

// Shell runs a login shell, or argv, in the project directory inside the
// VM (see session.Manager.Shell); target is what came before `--`, at
// most one project. It returns the remote exit status.
func (a *App) Shell(ctx context.Context, target, argv []string) (int, error) {
	if a.Getenv("SYSINIT_IN_VM") != "" {
		return 0, session.Guard(a.Getenv, true)
	}
	if len(target) > 1 {
		return 0, hint.Usage(fmt.Errorf("shell takes one project before `--`, got %d (put the command after --)", len(target)))
	}
	p, s, err := a.openAllowed(first(target), Overrides{}, false)
	if err != nil {
		return 0, err
	}
	sm, err := a.sessions()
	if err != nil {
		return 0, err
	}
	return sm.Shell(ctx, p, s, a.terminal(), argv, a.Getenv("TERM"))
}

// first is a command's optional one argument, "" when none.
func first(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

// Sessions are the Zellij sessions in a project's VM.
type Sessions struct {
	List []zellij.Session
	// VM is the project's VM; This, the project's own session.
	VM, This string
	ui       *ui.UI
}

// MarshalJSON writes the sessions as a JSON list, empty rather than null.
func (ss Sessions) MarshalJSON() ([]byte, error) {
	return json.Marshal(append([]zellij.Session{}, ss.List...))
}

// WriteText writes the sessions as `sysvm sessions` lists them, and says
// when there are none.
func (ss Sessions) WriteText(w io.Writer) error {
	if len(ss.List) == 0 {
		ss.ui.Tell("no Zellij sessions in %s", ss.VM)
	}
	session.WriteSessions(w, ss.List, ss.This)
	return nil
}

// Sessions lists the Zellij sessions in the project's VM.
func (a *App) Sessions(ctx context.Context, arg string) (Sessions, error) {
	p, err := a.open(arg)
	if err != nil {
		return Sessions{}, err
	}
	sm, err := a.sessions()
	if err != nil {
		return Sessions{}, err
	}
	ss, err := sm.Sessions(ctx, p)
	return Sessions{List: ss, VM: p.VM, This: p.Session(), ui: a.UI}, err
}

// ForgetHostKey forgets the VM's pinned SSH host key; the next connection
// pins the new one.
func (a *App) ForgetHostKey(arg string) error {
	p, err := a.open(arg)
	if err != nil {
		return err
	}
	err = a.stateDir().UnpinHostKey(p.VM)
	if err == nil {
		a.UI.Say("forgot the host key of %s", p.VM)
	}
	return err
}
