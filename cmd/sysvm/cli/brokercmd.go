package cli

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/state"
)

func (a *App) cmdBroker() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "The per-user process that keeps one SSH connection per running VM",
		Long: `sysvm starts the broker by itself on the first attach or shell; it exits
after a quiet period with no client (SYSVM_BROKER_IDLE, default 5m), but
not while a VM with idle stop runs: the broker is what stops it.
SYSVM_BROKER=0 makes every command dial the VM directly instead.`,
	}
	var stateDir, socket string
	serve := command("serve", "Run the broker in the foreground", noArgs, func(cmd *cobra.Command, _ []string) error {
		a.f.State = state.Dir(stateDir)
		d, err := a.f.Daemon(socket)
		if err != nil {
			return err
		}
		if err := d.Serve(cmd.Context()); !errors.Is(err, broker.ErrDaemonRunning) {
			return err
		}
		return nil // another broker won the race: nothing to do
	})
	// The client that starts the broker names both, so the broker never
	// derives others from its own environment.
	serve.Flags().StringVar(&stateDir, "state-dir", "", "sysvm's state directory (default: the environment's)")
	serve.Flags().StringVar(&socket, "socket", "", "the socket to listen on (default: the environment's)")
	client := func() *broker.Client {
		return &broker.Client{Socket: broker.SocketPath(a.Getenv, a.f.StateDir())}
	}
	status := command("status", "Show the broker's connections", noArgs, func(*cobra.Command, []string) error {
		vms, ok := client().Status()
		if !ok {
			a.ui.Tell("no broker is running")
			return nil
		}
		return writeJSON(a.Out, append([]broker.VMStatus{}, vms...))
	})
	stop := command("stop", "Stop the broker; attached sessions reconnect by dialing again", noArgs, func(*cobra.Command, []string) error {
		pid, err := client().Stop()
		switch {
		case errors.Is(err, broker.ErrNotRunning):
			a.ui.Say("no broker is running")
			return nil
		case err == nil:
			a.ui.Say("stopped the broker (pid %d)", pid)
		}
		return err
	})
	cmd.AddCommand(serve, status, stop)
	return cmd
}
