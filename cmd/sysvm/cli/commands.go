package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/app"
)

// commands is the table: one row per command, each parsing its flags and
// making one call into package app.
func (a *App) commands() []*cobra.Command {
	var up app.UpOptions
	var config app.Overrides
	var destroyYes, forget, statusJSON, listJSON, sessionsJSON, install bool
	var attach app.AttachOptions
	var initOpt app.InitOptions
	return []*cobra.Command{
		command("up [project|dir]", "Create the project's VM if needed and start it", maxOneArg, func(cmd *cobra.Command, args []string) error {
			return a.app.Up(cmd.Context(), arg(args), up)
		}, vmFlags(&up.Overrides), func(cmd *cobra.Command) {
			fl := cmd.Flags()
			fl.BoolVar(&up.Background, "background", false, "start the VM fully detached and return at once; output goes to a log")
			fl.BoolVar(&up.Recreate, "recreate", false, "delete the VM and create it again with the current settings (the project's files are kept)")
			fl.BoolVarP(&up.Yes, "yes", "y", false, "with --recreate: do not ask for confirmation")
			fl.BoolVar(&up.Keep, "keep", false, "keep this run of the VM up: idle stop leaves it alone until it next stops")
			fl.BoolVar(&up.NoApply, "no-apply", false, "do not apply changed settings to the VM (which restarts it); only report them (--background implies it)")
		}),
		command("stop [project|dir]", "Stop the project's VM", maxOneArg, func(cmd *cobra.Command, args []string) error {
			return a.app.Stop(cmd.Context(), arg(args))
		}),
		command("destroy [project|dir]", "Delete the project's VM (the project's files are never touched)", maxOneArg, func(cmd *cobra.Command, args []string) error {
			return a.app.Destroy(cmd.Context(), arg(args), destroyYes, forget)
		}, func(cmd *cobra.Command) {
			cmd.Flags().BoolVarP(&destroyYes, "yes", "y", false, "do not ask for confirmation")
			cmd.Flags().BoolVar(&forget, "forget", false, "also drop the project from `sysvm list`")
		}),
		command("status [project|dir]", "Show the project, its VM and its session", maxOneArg, func(cmd *cobra.Command, args []string) error {
			st, err := a.app.Status(cmd.Context(), arg(args))
			return a.print(st, err, statusJSON)
		}, jsonFlag(&statusJSON)),
		command("list", "List every project sysvm knows on this host, with its VM's state", noArgs, func(cmd *cobra.Command, _ []string) error {
			l, err := a.app.List(cmd.Context())
			return a.print(l, err, listJSON)
		}, jsonFlag(&listJSON)),
		command("config [project|dir]", "Print the Lima config sysvm generates for the project", maxOneArg, func(_ *cobra.Command, args []string) error {
			out, err := a.app.Config(arg(args), config)
			return a.print(out, err, false)
		}, vmFlags(&config)),
		command("attach [project|dir]", "Attach this terminal to the project's Zellij session in its VM", maxOneArg, func(cmd *cobra.Command, args []string) error {
			return exitCode(a.app.Attach(cmd.Context(), arg(args), attach))
		}, func(cmd *cobra.Command) {
			cmd.Flags().BoolVar(&attach.Force, "force", false, "attach even inside a local Zellij session")
			cmd.Flags().BoolVar(&attach.Fresh, "fresh", false, "delete a dead (EXITED) session first, so the layout applies anew")
		}),
		command("shell [project|dir] [-- command...]", "A login shell, or one command, in the project directory inside the VM", nil, func(cmd *cobra.Command, args []string) error {
			target, argv := args, []string(nil)
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				target, argv = args[:n], args[n:]
			}
			return exitCode(a.app.Shell(cmd.Context(), target, argv))
		}),
		command("sessions [project|dir]", "List the Zellij sessions in the project's VM", maxOneArg, func(cmd *cobra.Command, args []string) error {
			ss, err := a.app.Sessions(cmd.Context(), arg(args))
			return a.print(ss, err, sessionsJSON)
		}, jsonFlag(&sessionsJSON)),
		command("forget-host-key [project|dir]", "Forget the VM's pinned SSH host key; the next start or attach pins the new one", maxOneArg, func(_ *cobra.Command, args []string) error {
			return a.app.ForgetHostKey(arg(args))
		}),
		command("hook bash|zsh|fish", "Print the shell hook that enters the project's VM when you cd into it", cobra.ArbitraryArgs, func(_ *cobra.Command, args []string) error {
			text, err := a.app.Hook(args)
			return a.print(text, err, false)
		}),
		command("direnvrc", "Print (or --install) direnv's `use sysvm` library", noArgs, func(*cobra.Command, []string) error {
			text, err := a.app.Direnvrc(install)
			return a.print(text, err, false)
		}, func(cmd *cobra.Command) {
			cmd.Flags().BoolVar(&install, "install", false, "write it to ~/.config/direnv/lib/sysvm.sh")
		}),
		// Fast and silent on stdout apart from the exports: direnv
		// evaluates them.
		command("direnv-export [dir]", "Print the exports of `use sysvm` (used by the direnv library)", maxOneArg, func(_ *cobra.Command, args []string) error {
			exports, err := a.app.DirenvExports(append(args, ".")[0])
			return a.print(exports, err, false)
		}, func(cmd *cobra.Command) { cmd.Hidden = true }),
		a.broker(),
		command("version", "Print sysvm's version", noArgs, func(*cobra.Command, []string) error {
			return a.print(fmt.Sprintf("sysvm %s\n", Version), nil, false)
		}),
		command("init [dir]", "Write a project template (.envrc, shell.nix, ...) into a directory", maxOneArg, func(_ *cobra.Command, args []string) error {
			return a.app.Init(append(args, ".")[0], initOpt)
		}, func(cmd *cobra.Command) {
			names := app.Templates()
			cmd.Flags().StringVarP(&initOpt.Template, "template", "t", names[0], "the template: "+strings.Join(names, ", "))
			cmd.Flags().BoolVar(&initOpt.Force, "force", false, "append the lines that load and say \"use sysvm\" to an existing .envrc (nothing is ever overwritten)")
		}),
		command("allow [project|dir]", "Allow sysvm to use the project's sysvm.yaml, edited Lima config and layout as they are now", maxOneArg, func(_ *cobra.Command, args []string) error {
			return a.app.Allow(arg(args))
		}),
	}
}

// broker is the broker's command and its own table.
func (a *App) broker() *cobra.Command {
	var stateDir, socket string
	cmd := command("broker", "The per-user process that keeps one SSH connection per running VM", nil, nil)
	cmd.AddCommand(
		// The client that starts the broker names both, so the broker
		// never derives others from its own environment.
		command("serve", "Run the broker in the foreground", noArgs, func(cmd *cobra.Command, _ []string) error {
			return a.app.ServeBroker(cmd.Context(), stateDir, socket)
		}, func(cmd *cobra.Command) {
			cmd.Flags().StringVar(&stateDir, "state-dir", "", "sysvm's state directory (default: the environment's)")
			cmd.Flags().StringVar(&socket, "socket", "", "the socket to listen on (default: the environment's)")
		}),
		command("status", "Show the broker's connections", noArgs, func(*cobra.Command, []string) error {
			vms, running := a.app.BrokerStatus()
			if !running {
				a.ui.Tell("no broker is running")
				return nil
			}
			return a.print(vms, nil, true)
		}),
		command("stop", "Stop the broker; attached sessions reconnect by dialing again", noArgs, func(*cobra.Command, []string) error {
			return a.app.StopBroker()
		}),
	)
	return cmd
}

// vmFlags binds the VM settings accepted on the command line to o.
func vmFlags(o *app.Overrides) func(*cobra.Command) {
	return func(cmd *cobra.Command) {
		fl := cmd.Flags()
		fl.IntVar(&o.CPUs, "cpus", 0, "number of CPUs (env VM_CPUS)")
		fl.StringVar(&o.Memory, "memory", "", "memory, e.g. 8GiB (env VM_MEMORY)")
		fl.StringVar(&o.Disk, "disk", "", "disk size, e.g. 50GiB (env VM_DISK)")
		fl.StringVar(&o.Image, "image", "", "image URL or local qcow2 path (env VM_IMAGE)")
		fl.StringSliceVar(&o.Ports, "port", nil, "forward PORT or HOST:GUEST; repeatable (env VM_PORTS)")
	}
}
