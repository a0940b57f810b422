package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/session"
)

// vmFlags are the VM settings accepted on the command line.
type vmFlags struct {
	o limaconfig.Overrides
}

func (f *vmFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.o.CPUs, "cpus", 0, "number of CPUs (env VM_CPUS)")
	fl.StringVar(&f.o.Memory, "memory", "", "memory, e.g. 8GiB (env VM_MEMORY)")
	fl.StringVar(&f.o.Disk, "disk", "", "disk size, e.g. 50GiB (env VM_DISK)")
	fl.StringVar(&f.o.Image, "image", "", "image URL or local qcow2 path (env VM_IMAGE)")
	fl.StringSliceVar(&f.o.Ports, "port", nil, "forward PORT or HOST:GUEST; repeatable (env VM_PORTS)")
}

// settings resolves the project's VM settings: flags over VM_* over sysvm.yaml.
func (a *App) settings(p *project.Project, o limaconfig.Overrides) (limaconfig.Settings, error) {
	s, err := limaconfig.Resolve(p, o, a.Getenv)
	if err != nil {
		return s, usageError{err}
	}
	a.idleSettings(&s)
	return s, nil
}

// projectSettings resolves the command's project and its settings, once
// the user has allowed the project's files (see package allow).
func (a *App) projectSettings(args []string, o limaconfig.Overrides) (*project.Project, limaconfig.Settings, error) {
	p, err := a.project(args)
	if err != nil {
		return nil, limaconfig.Settings{}, err
	}
	if err := a.allowed(p); err != nil {
		return nil, limaconfig.Settings{}, err
	}
	s, err := a.settings(p, o)
	return p, s, err
}

// notAllowedFiles names the files an allow.Check error found new or
// changed; an error of another kind is named as it is.
func notAllowedFiles(err error) []string {
	var na *allow.NotAllowedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &na):
		var out []string
		for _, f := range na.New {
			out = append(out, f+" (new)")
		}
		for _, f := range na.Changed {
			out = append(out, f+" (changed)")
		}
		return out
	}
	return []string{shown(err.Error())}
}

// confirm asks a yes/no question on the terminal; without one it refuses
// with the flag that answers yes.
func (a *App) confirm(question, refusal, yesFlag string) (bool, error) {
	if !a.stdinTTY() {
		return false, hint.Wrap(fmt.Errorf("refusing to %s without confirmation", refusal), yesFlag)
	}
	fmt.Fprintf(a.ErrOut, "%s [y/N] ", question)
	line, _ := bufio.NewReader(a.In).ReadString('\n')
	ans := strings.ToLower(strings.TrimSpace(line))
	return ans == "y" || ans == "yes", nil
}

func (a *App) cmdUp() *cobra.Command {
	var f vmFlags
	var background, recreate, yes, keep bool
	cmd := &cobra.Command{
		Use:   "up [project|dir]",
		Short: "Create the project's VM if needed and start it",
		Long: `Create the project's VM from .lima/config.yaml (written from sysvm's template
when missing, and regenerated when the settings change unless you edited it)
or start it when stopped. Does nothing when it runs.

When the settings differ from the ones the VM was created with, up says which;
--recreate applies them: it deletes the VM and creates it again (asking first
on a terminal). The project's files are never touched.`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, s, err := a.projectSettings(args, f.o)
			if err != nil {
				return err
			}
			v, err := a.vms()
			if err != nil {
				return err
			}
			if background {
				exe, err := self()
				if err != nil {
					return err
				}
				argv := []string{exe, "up", p.Dir}
				if a.Name != "" {
					argv = append(argv, "--name", a.Name)
				}
				if keep {
					argv = append(argv, "--keep")
				}
				logPath, err := v.UpBackground(p, s, argv)
				if err == nil && !a.Quiet {
					fmt.Fprintf(a.ErrOut, "sysvm: bringing %s up in the background (log: %s)\n", p.VM, logPath)
				}
				return err
			}
			v.Keep = keep
			up := v.Up
			if recreate {
				if !yes {
					ok, err := a.confirm(fmt.Sprintf("Delete the VM %s and create it again with the current settings? Everything inside it that is not in %s is lost.", p.VM, shown(p.Dir)),
						"recreate "+p.VM, "sysvm up --recreate --yes")
					if err != nil {
						return err
					}
					if !ok {
						fmt.Fprintln(a.ErrOut, "sysvm: nothing changed")
						return nil
					}
				}
				up = v.Recreate
			}
			inst, err := up(cmd.Context(), p, s)
			if err != nil {
				return err
			}
			a.startIdleBroker(s)
			if !a.Quiet {
				fmt.Fprintf(a.ErrOut, "sysvm: %s is %s (ssh port %d)\n", inst.Name, inst.Status, inst.SSHLocalPort)
			}
			return nil
		},
	}
	f.bind(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&background, "background", false, "start the VM fully detached and return at once; output goes to a log")
	fl.BoolVar(&recreate, "recreate", false, "delete the VM and create it again with the current settings (the project's files are kept)")
	fl.BoolVarP(&yes, "yes", "y", false, "with --recreate: do not ask for confirmation")
	fl.BoolVar(&keep, "keep", false, "keep this run of the VM up: idle stop leaves it alone until it next stops")
	return cmd
}

func (a *App) cmdStop() *cobra.Command {
	return &cobra.Command{
		Use:   "stop [project|dir]",
		Short: "Stop the project's VM",
		Args:  maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.project(args)
			if err != nil {
				return err
			}
			v, err := a.vms()
			if err != nil {
				return err
			}
			stopped, err := v.Stop(cmd.Context(), p)
			if err == nil && !a.Quiet {
				fmt.Fprintf(a.ErrOut, "sysvm: %s %s\n", p.VM, stopped)
			}
			return err
		},
	}
}

func (a *App) cmdDestroy() *cobra.Command {
	var yes, forget bool
	cmd := &cobra.Command{
		Use:   "destroy [project|dir]",
		Short: "Delete the project's VM (the project's files are never touched)",
		Args:  maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.project(args)
			if err != nil {
				return err
			}
			if !yes {
				ok, err := a.confirm(fmt.Sprintf("Delete the VM %s and everything inside it that is not in %s?", p.VM, shown(p.Dir)),
					"delete "+p.VM, "sysvm destroy --yes")
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(a.ErrOut, "sysvm: nothing deleted")
					return nil
				}
			}
			v, err := a.vms()
			if err != nil {
				return err
			}
			existed, err := v.Destroy(cmd.Context(), p, forget)
			if err != nil || a.Quiet {
				return err
			}
			if existed {
				fmt.Fprintf(a.ErrOut, "sysvm: deleted %s; %s is untouched\n", p.VM, shown(p.Dir))
			} else {
				fmt.Fprintf(a.ErrOut, "sysvm: %s does not exist; nothing to delete\n", p.VM)
			}
			if forget {
				fmt.Fprintf(a.ErrOut, "sysvm: %s is no longer in `sysvm list`\n", p.Slug)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&forget, "forget", false, "also drop the project from `sysvm list`")
	return cmd
}

func (a *App) cmdConfig() *cobra.Command {
	var f vmFlags
	cmd := &cobra.Command{
		Use:   "config [project|dir]",
		Short: "Print the Lima config sysvm generates for the project",
		Args:  maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, s, err := a.projectSettings(args, f.o)
			if err != nil {
				return err
			}
			out, err := limaconfig.Generate(p, s, limaconfig.ThisHost())
			if err != nil {
				return err
			}
			_, err = a.Out.Write(out)
			return err
		},
	}
	f.bind(cmd)
	return cmd
}

func (a *App) cmdStatus() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [project|dir]",
		Short: "Show the project, its VM and its session",
		Args:  maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Status shows what a project would do without doing it, so
			// files not allowed yet are named rather than refused.
			p, err := a.project(args)
			if err != nil {
				return err
			}
			notAllowed := notAllowedFiles(allow.Check(a.stateDir(), p))
			s, err := a.settings(p, limaconfig.Overrides{})
			if err != nil {
				return err
			}
			sm, err := a.sessions()
			if err != nil {
				return err
			}
			st, err := sm.Status(cmd.Context(), p, s)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.Out, struct {
					session.Status
					NotAllowed []string `json:"notAllowed,omitempty"`
				}{st, notAllowed})
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "project\t%s\n", st.Project)
			fmt.Fprintf(tw, "dir\t%s\n", shown(st.Dir))
			if len(notAllowed) > 0 {
				fmt.Fprintf(tw, "allowed\tno: %s (read them, then: sysvm allow)\n", strings.Join(notAllowed, ", "))
			}
			fmt.Fprintf(tw, "vm\t%s (%s)\n", st.VM, st.State)
			if st.SSHPort > 0 {
				fmt.Fprintf(tw, "ssh\t127.0.0.1:%d\n", st.SSHPort)
			}
			cfg := st.Config
			switch {
			case !st.ConfigExists:
				cfg += " (not written yet; `sysvm up` writes it)"
			case st.ConfigEdited && st.ConfigDiffers:
				cfg += " (edited: differs from `sysvm config`; sysvm uses your file)"
			case st.ConfigDiffers:
				cfg += " (settings changed; the next `sysvm up` regenerates it)"
			}
			fmt.Fprintf(tw, "config\t%s\n", cfg)
			if len(st.Changed) > 0 {
				fmt.Fprintf(tw, "changed\t%s (apply: sysvm up --recreate)\n", strings.Join(st.Changed, "; "))
			}
			fmt.Fprintf(tw, "session\t%s (%s)\n", st.Session, st.SessionState)
			if z := st.Zellij; z != nil {
				by := "the VM's own"
				if z.Installed {
					by = "installed by sysvm"
				}
				fmt.Fprintf(tw, "zellij\t%s %s (%s)\n", z.Version, z.Path, by)
			}
			switch st.HostKeys {
			case "console":
				fmt.Fprintf(tw, "host key\tchecked against the fingerprints on the VM's console\n")
			case "first-use":
				fmt.Fprintf(tw, "host key\ttrusted on first use: the image prints no fingerprints on its console\n")
			}
			if st.Lima != "" {
				fmt.Fprintf(tw, "lima\t%s\n", st.Lima)
			}
			if bs := st.Broker; bs != nil && bs.Connected {
				fmt.Fprintf(tw, "broker\tconnected since %s, %d client(s) attached\n", bs.Since, bs.Clients)
			}
			printIdle(tw, st)
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *App) cmdList() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every project sysvm knows on this host, with its VM's state",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := a.vms()
			if err != nil {
				return err
			}
			entries, err := v.List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.Out, entries)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROJECT\tVM\tSTATE\tDIR")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Project, e.VM, e.State, shown(e.Dir))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
