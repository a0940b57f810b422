package app

import (
	"context"
	"fmt"
	"io"

	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/status"
	"github.com/sysvm/sysvm/vm"
)

// UpOptions are `sysvm up`'s flags.
type UpOptions struct {
	Overrides
	// Background starts the VM fully detached, its output in a log.
	Background bool
	// Recreate deletes the VM and creates it again, after asking unless
	// Yes.
	Recreate, Yes bool
	// Keep keeps this run of the VM up: idle stop leaves it alone.
	Keep bool
	// NoApply leaves changed settings unapplied (only reported): the
	// background up of the shell hook must not restart a VM in use.
	NoApply bool
}

// Up creates the project's VM if needed and starts it (see vm.Manager.Up),
// in the background or, with Recreate and the user's consent, anew; a VM
// with idle stop gets the broker process that watches it.
func (a *App) Up(ctx context.Context, arg string, o UpOptions) error {
	p, s, err := a.openAllowed(arg, o.Overrides, false)
	if err != nil {
		return err
	}
	v, err := a.vms()
	if err != nil {
		return err
	}
	if o.Background {
		exe, err := self()
		if err != nil {
			return err
		}
		argv := []string{exe, "up", p.Dir, "--name=" + a.Name, fmt.Sprintf("--keep=%t", o.Keep), "--no-apply"}
		logPath, err := v.UpBackground(p, s, argv)
		if err == nil {
			a.UI.Say("bringing %s up in the background (log: %s)", p.VM, logPath)
		}
		return err
	}
	v.Keep = o.Keep
	v.ApplySettings = !o.NoApply
	up := v.Up
	if o.Recreate {
		ok, err := a.confirm(o.Yes, "Delete the VM "+p.VM+" and create it again with the current settings? Everything inside it that is not in "+p.Dir+" is lost.",
			"recreate "+p.VM, "sysvm up --recreate --yes")
		if !ok {
			return err
		}
		up = v.Recreate
	}
	inst, err := up(ctx, p, s)
	if err != nil {
		return err
	}
	if err := a.watchIdle(s); err != nil {
		a.UI.Warn("%v", err)
	}
	a.UI.Say("%s is %s (ssh port %d)", inst.Name, inst.Status, inst.SSHLocalPort)
	return nil
}

// Stop stops the project's VM.
func (a *App) Stop(ctx context.Context, arg string) error {
	p, v, err := a.openVM(arg)
	if err != nil {
		return err
	}
	stopped, err := v.Stop(ctx, p)
	if err == nil {
		a.UI.Say("%s %s", p.VM, stopped)
	}
	return err
}

// Destroy deletes the project's VM after asking unless yes, and with
// forget drops the project from sysvm's registry too.
func (a *App) Destroy(ctx context.Context, arg string, yes, forget bool) error {
	p, v, err := a.openVM(arg)
	if err != nil {
		return err
	}
	ok, err := a.confirm(yes, "Delete the VM "+p.VM+" and everything inside it that is not in "+p.Dir+"?", "delete "+p.VM, "sysvm destroy --yes")
	if !ok {
		return err
	}
	existed, err := v.Destroy(ctx, p, forget)
	switch {
	case err != nil:
		return err
	case existed:
		a.UI.Say("deleted %s; %s is untouched", p.VM, p.Dir)
	default:
		a.UI.Say("%s does not exist; nothing to delete", p.VM)
	}
	if forget {
		a.UI.Say("%s is no longer in `sysvm list`", p.Slug)
	}
	return nil
}

// Config is the Lima config sysvm generates for the project.
func (a *App) Config(arg string, o Overrides) (string, error) {
	p, s, err := a.openAllowed(arg, o, false)
	if err != nil {
		return "", err
	}
	out, err := limaconfig.Generate(p, s, limaconfig.ThisHost())
	return string(out), err
}

// Status reads the project's status. It shows what a project would do
// without doing it, so files not allowed yet are named rather than
// refused.
func (a *App) Status(ctx context.Context, arg string) (status.Status, error) {
	p, err := a.open(arg)
	if err != nil {
		return status.Status{}, err
	}
	s, err := a.settings(p, Overrides{})
	if err != nil {
		return status.Status{}, err
	}
	sr, err := a.statusReader()
	if err != nil {
		return status.Status{}, err
	}
	return sr.Read(ctx, p, s)
}

// List is every project sysvm knows on this host, with its VM's state.
type List []vm.ListEntry

// WriteText writes the list as `sysvm list` shows it.
func (l List) WriteText(w io.Writer) error { return vm.WriteList(w, l) }

// List lists every project sysvm knows on this host.
func (a *App) List(ctx context.Context) (List, error) {
	v, err := a.vms()
	if err != nil {
		return nil, err
	}
	return v.List(ctx)
}
