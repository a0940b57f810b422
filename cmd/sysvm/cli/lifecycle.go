package cli

import (
	"fmt"
	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/factory"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/vm"
)

// vmFlags binds the VM settings accepted on the command line to cmd.
func vmFlags(cmd *cobra.Command, o *limaconfig.Overrides) *cobra.Command {
	fl := cmd.Flags()
	fl.IntVar(&o.CPUs, "cpus", 0, "number of CPUs (env VM_CPUS)")
	fl.StringVar(&o.Memory, "memory", "", "memory, e.g. 8GiB (env VM_MEMORY)")
	fl.StringVar(&o.Disk, "disk", "", "disk size, e.g. 50GiB (env VM_DISK)")
	fl.StringVar(&o.Image, "image", "", "image URL or local qcow2 path (env VM_IMAGE)")
	fl.StringSliceVar(&o.Ports, "port", nil, "forward PORT or HOST:GUEST; repeatable (env VM_PORTS)")
	return cmd
}

// onVM is a command that resolves its project and runs with the VM
// lifecycle.
func (a *App) onVM(use, short string, run func(*cobra.Command, *project.Project, *vm.Manager) error) *cobra.Command {
	return command(use, short, maxOneArg, func(cmd *cobra.Command, args []string) error {
		p, err := a.project(args)
		if err != nil {
			return err
		}
		v, err := a.f.VMs()
		if err != nil {
			return err
		}
		return run(cmd, p, v)
	})
}

func (a *App) cmdUp() *cobra.Command {
	var o limaconfig.Overrides
	var background, recreate, yes, keep bool
	cmd := command("up [project|dir]", "Create the project's VM if needed and start it", maxOneArg, func(cmd *cobra.Command, args []string) error {
		p, s, err := a.projectSettings(args, o)
		if err != nil {
			return err
		}
		v, err := a.f.VMs()
		if err != nil {
			return err
		}
		if background {
			exe, err := factory.Self()
			if err != nil {
				return err
			}
			argv := []string{exe, "up", p.Dir, "--name=" + a.Name, fmt.Sprintf("--keep=%t", keep)}
			logPath, err := v.UpBackground(p, s, argv)
			if err == nil {
				a.ui.Say("bringing %s up in the background (log: %s)", p.VM, logPath)
			}
			return err
		}
		v.Keep = keep
		up := v.Up
		if recreate {
			ok, err := a.confirm(yes, "Delete the VM "+p.VM+" and create it again with the current settings? Everything inside it that is not in "+p.Dir+" is lost.",
				"recreate "+p.VM, "sysvm up --recreate --yes")
			if !ok {
				return err
			}
			up = v.Recreate
		}
		inst, err := up(cmd.Context(), p, s)
		if err != nil {
			return err
		}
		if err := a.f.WatchIdle(s); err != nil {
			a.ui.Warn("%v", err)
		}
		a.ui.Say("%s is %s (ssh port %d)", inst.Name, inst.Status, inst.SSHLocalPort)
		return nil
	})
	cmd.Long = `Create the project's VM from .lima/config.yaml (written from sysvm's template
when missing, and regenerated when the settings change unless you edited it)
or start it when stopped. Does nothing when it runs.

When the settings differ from the ones the VM was created with, up says which;
--recreate applies them: it deletes the VM and creates it again (asking first
on a terminal). The project's files are never touched.`
	fl := vmFlags(cmd, &o).Flags()
	fl.BoolVar(&background, "background", false, "start the VM fully detached and return at once; output goes to a log")
	fl.BoolVar(&recreate, "recreate", false, "delete the VM and create it again with the current settings (the project's files are kept)")
	fl.BoolVarP(&yes, "yes", "y", false, "with --recreate: do not ask for confirmation")
	fl.BoolVar(&keep, "keep", false, "keep this run of the VM up: idle stop leaves it alone until it next stops")
	return cmd
}

func (a *App) cmdStop() *cobra.Command {
	return a.onVM("stop [project|dir]", "Stop the project's VM", func(cmd *cobra.Command, p *project.Project, v *vm.Manager) error {
		stopped, err := v.Stop(cmd.Context(), p)
		if err == nil {
			a.ui.Say("%s %s", p.VM, stopped)
		}
		return err
	})
}

func (a *App) cmdDestroy() *cobra.Command {
	var yes, forget bool
	cmd := a.onVM("destroy [project|dir]", "Delete the project's VM (the project's files are never touched)", func(cmd *cobra.Command, p *project.Project, v *vm.Manager) error {
		ok, err := a.confirm(yes, "Delete the VM "+p.VM+" and everything inside it that is not in "+p.Dir+"?", "delete "+p.VM, "sysvm destroy --yes")
		if !ok {
			return err
		}
		existed, err := v.Destroy(cmd.Context(), p, forget)
		switch {
		case err != nil:
			return err
		case existed:
			a.ui.Say("deleted %s; %s is untouched", p.VM, p.Dir)
		default:
			a.ui.Say("%s does not exist; nothing to delete", p.VM)
		}
		if forget {
			a.ui.Say("%s is no longer in `sysvm list`", p.Slug)
		}
		return nil
	})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&forget, "forget", false, "also drop the project from `sysvm list`")
	return cmd
}

func (a *App) cmdConfig() *cobra.Command {
	var o limaconfig.Overrides
	return vmFlags(command("config [project|dir]", "Print the Lima config sysvm generates for the project", maxOneArg, func(cmd *cobra.Command, args []string) error {
		p, s, err := a.projectSettings(args, o)
		if err != nil {
			return err
		}
		out, err := limaconfig.Generate(p, s, limaconfig.ThisHost())
		if err == nil {
			_, err = a.Out.Write(out)
		}
		return err
	}), &o)
}

func (a *App) cmdStatus() *cobra.Command {
	var asJSON bool
	return jsonFlag(command("status [project|dir]", "Show the project, its VM and its session", maxOneArg, func(cmd *cobra.Command, args []string) error {
		// Status shows what a project would do without doing it, so
		// files not allowed yet are named rather than refused.
		p, err := a.project(args)
		if err != nil {
			return err
		}
		s, err := a.f.Settings(p, limaconfig.Overrides{})
		if err != nil {
			return err
		}
		sr, err := a.f.Status()
		if err != nil {
			return err
		}
		st, err := sr.Read(cmd.Context(), p, s)
		switch {
		case err != nil:
			return err
		case asJSON:
			return writeJSON(a.Out, st)
		}
		return st.WriteText(a.Out)
	}), &asJSON)
}

func (a *App) cmdList() *cobra.Command {
	var asJSON bool
	return jsonFlag(command("list", "List every project sysvm knows on this host, with its VM's state", noArgs, func(cmd *cobra.Command, _ []string) error {
		v, err := a.f.VMs()
		if err != nil {
			return err
		}
		entries, err := v.List(cmd.Context())
		switch {
		case err != nil:
			return err
		case asJSON:
			return writeJSON(a.Out, entries)
		}
		return vm.WriteList(a.Out, entries)
	}), &asJSON)
}
