package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/detach"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/zellij"
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

func (a *App) settings(p *project.Project, f *vmFlags) (limaconfig.Settings, error) {
	s, err := limaconfig.Resolve(p, f.o, a.Getenv)
	if err != nil {
		return s, usageError{err}
	}
	return s, nil
}

func (a *App) cmdUp() *cobra.Command {
	var f vmFlags
	var background bool
	cmd := &cobra.Command{
		Use:   "up [project|dir]",
		Short: "Create the project's VM if needed and start it",
		Long: `Create the project's VM from .lima/config.yaml (written from sysvm's template
when missing) or start it when stopped. Does nothing when it runs.`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.project(args)
			if err != nil {
				return err
			}
			s, err := a.settings(p, &f)
			if err != nil {
				return err
			}
			b, err := a.broker()
			if err != nil {
				return err
			}
			if background {
				return a.upBackground(b, p, s)
			}
			inst, err := b.Up(cmd.Context(), p, s)
			if err != nil {
				return err
			}
			if !a.Quiet {
				fmt.Fprintf(a.ErrOut, "sysvm: %s is %s (ssh port %d)\n", inst.Name, inst.Status, inst.SSHLocalPort)
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&background, "background", false, "start the VM fully detached and return at once; output goes to a log")
	return cmd
}

// upBackground re-runs `sysvm up` in a new session with every descriptor
// closed and its output in a log, so a prompt (direnv) never waits for it.
func (a *App) upBackground(b *broker.Broker, p *project.Project, s limaconfig.Settings) error {
	if _, _, err := b.EnsureConfig(p, s); err != nil {
		return err
	}
	logs, err := b.State.MkdirAll("logs")
	if err != nil {
		return err
	}
	logPath := filepath.Join(logs, p.VM+".up.log")
	exe, err := self()
	if err != nil {
		return err
	}
	argv := []string{exe, "up", p.Dir}
	if a.Name != "" {
		argv = append(argv, "--name", a.Name)
	}
	proc, err := detach.Start(argv, p.Dir, logPath, true)
	if err != nil {
		return err
	}
	_ = proc.Release()
	if !a.Quiet {
		fmt.Fprintf(a.ErrOut, "sysvm: bringing %s up in the background (log: %s)\n", p.VM, logPath)
	}
	return nil
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
			b, err := a.broker()
			if err != nil {
				return err
			}
			stopped, err := b.Stop(cmd.Context(), p)
			if err != nil {
				return err
			}
			if !a.Quiet {
				fmt.Fprintf(a.ErrOut, "sysvm: %s %s\n", p.VM, stopped)
			}
			return nil
		},
	}
}

func (a *App) cmdDestroy() *cobra.Command {
	var yes bool
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
				if !a.stdinTTY() {
					return &broker.Hinted{Err: fmt.Errorf("refusing to delete %s without confirmation", p.VM),
						Hints: []string{"sysvm destroy --yes"}}
				}
				fmt.Fprintf(a.ErrOut, "Delete the VM %s and everything inside it that is not in %s? [y/N] ", p.VM, p.Dir)
				line, _ := bufio.NewReader(a.In).ReadString('\n')
				if ans := strings.ToLower(strings.TrimSpace(line)); ans != "y" && ans != "yes" {
					fmt.Fprintln(a.ErrOut, "sysvm: nothing deleted")
					return nil
				}
			}
			b, err := a.broker()
			if err != nil {
				return err
			}
			existed, err := b.Destroy(cmd.Context(), p)
			if err != nil {
				return err
			}
			if !a.Quiet {
				if existed {
					fmt.Fprintf(a.ErrOut, "sysvm: deleted %s; %s is untouched\n", p.VM, p.Dir)
				} else {
					fmt.Fprintf(a.ErrOut, "sysvm: %s does not exist; nothing to delete\n", p.VM)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func (a *App) cmdConfig() *cobra.Command {
	var f vmFlags
	cmd := &cobra.Command{
		Use:   "config [project|dir]",
		Short: "Print the Lima config sysvm generates for the project",
		Args:  maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.project(args)
			if err != nil {
				return err
			}
			s, err := a.settings(p, &f)
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

// Status is what `sysvm status --json` prints.
type Status struct {
	Project      string `json:"project"`
	Dir          string `json:"dir"`
	VM           string `json:"vm"`
	State        string `json:"state"`
	SSHPort      int    `json:"sshPort,omitempty"`
	SSHConfig    string `json:"sshConfig,omitempty"`
	Config       string `json:"config"`
	ConfigEdited bool   `json:"configEdited"`
	ConfigExists bool   `json:"configExists"`
	Session      string `json:"session"`
	// SessionState is running, exited, none (no such session yet) or
	// unknown (the VM is not running or could not be asked).
	SessionState string `json:"sessionState"`
	// Broker is the broker process's connection to the VM, if it has one.
	Broker *broker.VMStatus `json:"broker,omitempty"`
}

// StateNotCreated is the state of a VM that does not exist yet.
const StateNotCreated = "NotCreated"

func (a *App) cmdStatus() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [project|dir]",
		Short: "Show the project, its VM and its session",
		Args:  maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.project(args)
			if err != nil {
				return err
			}
			b, err := a.broker()
			if err != nil {
				return err
			}
			st := Status{Project: p.Slug, Dir: p.Dir, VM: p.VM, Config: p.LimaConfig(), Session: p.Session(), State: StateNotCreated, SessionState: "unknown"}
			if cur, err := os.ReadFile(p.LimaConfig()); err == nil {
				st.ConfigExists = true
				if s, err := limaconfig.Resolve(p, limaconfig.Overrides{}, a.Getenv); err == nil {
					gen, _ := limaconfig.Generate(p, s, limaconfig.ThisHost())
					st.ConfigEdited = string(gen) != string(cur)
				}
			}
			inst, err := b.Lima.Inspect(cmd.Context(), p.VM)
			var nf *lima.NotFoundError
			switch {
			case errors.As(err, &nf):
			case err != nil:
				return err
			default:
				st.State, st.SSHPort = inst.Status, inst.SSHLocalPort
				if inst.Status == lima.StatusRunning {
					st.SSHConfig = inst.SSHConfigFile
					st.SessionState = a.sessionState(cmd.Context(), b, inst, p.Session())
				}
			}
			if vms, ok := b.DaemonStatus(); ok {
				for i := range vms {
					if vms[i].VM == p.VM {
						st.Broker = &vms[i]
					}
				}
			}
			if asJSON {
				return writeJSON(a.Out, st)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "project\t%s\n", st.Project)
			fmt.Fprintf(tw, "dir\t%s\n", st.Dir)
			fmt.Fprintf(tw, "vm\t%s (%s)\n", st.VM, st.State)
			if st.SSHPort > 0 {
				fmt.Fprintf(tw, "ssh\t127.0.0.1:%d\n", st.SSHPort)
			}
			cfg := st.Config
			switch {
			case !st.ConfigExists:
				cfg += " (not written yet; `sysvm up` writes it)"
			case st.ConfigEdited:
				cfg += " (edited: differs from `sysvm config`; sysvm uses your file)"
			}
			fmt.Fprintf(tw, "config\t%s\n", cfg)
			fmt.Fprintf(tw, "session\t%s (%s)\n", st.Session, st.SessionState)
			if bs := st.Broker; bs != nil && bs.Connected {
				fmt.Fprintf(tw, "broker\tconnected since %s, %d client(s) attached\n", bs.Since, bs.Clients)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// ListEntry is one line of `sysvm list --json`.
type ListEntry struct {
	Project string `json:"project"`
	VM      string `json:"vm"`
	State   string `json:"state"`
	Dir     string `json:"dir"`
}

func (a *App) cmdList() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every project sysvm knows on this host, with its VM's state",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.broker()
			if err != nil {
				return err
			}
			recs, err := b.State.Records()
			if err != nil {
				return err
			}
			insts, err := b.Lima.List(cmd.Context())
			if err != nil {
				return err
			}
			states := map[string]string{}
			for _, in := range insts {
				states[in.Name] = in.Status
			}
			entries := []ListEntry{}
			for _, r := range recs {
				s, ok := states[r.VM]
				if !ok {
					s = StateNotCreated
				}
				entries = append(entries, ListEntry{Project: r.Name, VM: r.VM, State: s, Dir: r.Dir})
			}
			if asJSON {
				enc := json.NewEncoder(a.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROJECT\tVM\tSTATE\tDIR")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Project, e.VM, e.State, e.Dir)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// sessionState asks the VM for the project's Zellij session.
func (a *App) sessionState(ctx context.Context, b *broker.Broker, inst *lima.Instance, name string) string {
	ss, err := b.Sessions(ctx, inst)
	if err != nil {
		return "unknown"
	}
	if s, ok := zellij.Find(ss, name); ok {
		return s.State()
	}
	return "none"
}
