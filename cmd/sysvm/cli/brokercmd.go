package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/broker"
)

func (a *App) cmdBroker() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "The per-user process that keeps one SSH connection per running VM",
		Long: `sysvm starts the broker by itself on the first attach or shell; it exits
after a quiet period with no client (SYSVM_BROKER_IDLE, default 5m).
SYSVM_BROKER=0 makes every command dial the VM directly instead.`,
	}
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Run the broker in the foreground",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			idle := 5 * time.Minute
			if v := a.Getenv("SYSVM_BROKER_IDLE"); v != "" {
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 {
					return usageError{fmt.Errorf("SYSVM_BROKER_IDLE=%q is not a duration such as 5m", v)}
				}
				idle = d
			}
			sd := a.stateDir()
			if _, err := sd.MkdirAll(); err != nil {
				return err
			}
			d := &broker.Daemon{
				State:  sd,
				Socket: broker.SocketPath(a.Getenv, sd),
				Idle:   idle,
				Log:    slog.New(slog.NewTextHandler(a.ErrOut, nil)),
			}
			err := d.Serve(cmd.Context())
			if errors.Is(err, broker.ErrDaemonRunning) {
				return nil // another broker won the race: nothing to do
			}
			return err
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the broker's connections",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := &broker.Broker{State: a.stateDir(), Socket: broker.SocketPath(a.Getenv, a.stateDir())}
			vms, ok := b.DaemonStatus()
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
	cmd.AddCommand(serve, status)
	return cmd
}
