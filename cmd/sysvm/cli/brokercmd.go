package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Run the broker in the foreground",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			idle, err := a.durationEnv("SYSVM_BROKER_IDLE", 5*time.Minute)
			if err != nil {
				return err
			}
			if stateDir != "" {
				a.stateOverride = state.Dir(stateDir)
			}
			sd := a.stateDir()
			if _, err := sd.MkdirAll(); err != nil {
				return err
			}
			if socket == "" {
				socket = broker.SocketPath(a.Getenv, sd)
			}
			stopper, err := a.idleStop()
			if err != nil {
				return err
			}
			d := &broker.Daemon{
				State:    sd,
				Socket:   socket,
				Idle:     idle,
				Log:      slog.New(slog.NewTextHandler(a.ErrOut, nil)),
				IdleStop: stopper,
			}
			err = d.Serve(cmd.Context())
			if errors.Is(err, broker.ErrDaemonRunning) {
				return nil // another broker won the race: nothing to do
			}
			return err
		},
	}
	// The client that starts the broker names both, so the broker never
	// derives others from its own environment.
	serve.Flags().StringVar(&stateDir, "state-dir", "", "sysvm's state directory (default: the environment's)")
	serve.Flags().StringVar(&socket, "socket", "", "the socket to listen on (default: the environment's)")
	client := func() *broker.Client {
		return &broker.Client{Socket: broker.SocketPath(a.Getenv, a.stateDir())}
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the broker's connections",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vms, ok := client().Status()
			if !ok {
				fmt.Fprintln(a.ErrOut, "sysvm: no broker is running")
				return nil
			}
			if vms == nil {
				vms = []broker.VMStatus{}
			}
			return writeJSON(a.Out, vms)
		},
	}
	stop := &cobra.Command{
		Use:   "stop",
		Short: "Stop the broker; attached sessions reconnect by dialing again",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pid, err := client().Stop()
			if errors.Is(err, broker.ErrNotRunning) {
				if !a.Quiet {
					fmt.Fprintln(a.ErrOut, "sysvm: no broker is running")
				}
				return nil
			}
			if err == nil && !a.Quiet {
				fmt.Fprintf(a.ErrOut, "sysvm: stopped the broker (pid %d)\n", pid)
			}
			return err
		},
	}
	cmd.AddCommand(serve, status, stop)
	return cmd
}
