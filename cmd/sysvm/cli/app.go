// Package cli is sysvm's command-line interface: the cobra command tree,
// the mapping of errors to messages, hints and exit codes, and the only
// place that exits. Each command parses its flags, makes one call to the
// layer below (assembled by package factory) and prints the result; it
// never does the work itself.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/detach"
	"github.com/sysvm/sysvm/factory"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/shellhook"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/ui"
)

// Exit codes, documented in `sysvm help` and the README.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
	ExitUnreachable = 255
)

// App is one invocation's streams, environment and global flags.
type App struct {
	In     *os.File
	Out    io.Writer
	ErrOut *os.File
	Getenv func(string) string

	Verbose bool
	Quiet   bool
	Name    string

	// askAllow lets the allow check ask on a terminal (attach does).
	askAllow bool
	f        factory.Factory
	// ui is the terminal of In, Out and ErrOut: everything sysvm says
	// there goes through it.
	ui *ui.UI
}

// ExitError carries an exit status to Main without printing anything (the
// remote command's status, passed through).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Main runs sysvm with os.Args and returns the exit code.
func Main() int {
	detach.CloseInheritedFDs()
	app := &App{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Getenv: os.Getenv}
	args := os.Args[1:]
	// Run as a helper (vm-shell, vm-stop, ...): the name picks the command.
	if sub, ok := shellhook.Helpers[filepath.Base(os.Args[0])]; ok {
		if sub[0] == "shell" && len(args) > 0 && args[0] != "--" {
			args = append([]string{"--"}, args...)
		}
		args = append(append([]string{}, sub...), args...)
	}
	return app.Run(args)
}

// Run executes one command line and maps its error to an exit code.
func (a *App) Run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	a.ui = ui.New(a.In, a.Out, a.ErrOut)
	root := a.newRoot()
	root.SetArgs(args)
	return a.report(root.ExecuteContext(ctx))
}

func (a *App) report(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	}
	a.ui.Error("%s", err)
	for _, s := range hint.Of(err) {
		a.ui.Hint("%s", s)
	}
	return exitCodes[hint.KindOf(err)]
}

// exitCodes gives each kind of failure its exit code.
var exitCodes = map[hint.Kind]int{
	hint.KindFailure:     ExitFailure,
	hint.KindUsage:       ExitUsage,
	hint.KindInterrupted: ExitInterrupted,
	hint.KindUnreachable: ExitUnreachable,
}

func (a *App) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "sysvm",
		Short: "A Lima VM and a Zellij session for every project directory",
		Long: `sysvm gives every project directory its own Lima VM and its own Zellij
session inside it. cd into a project (with the shell hook) or run
` + "`sysvm attach`" + ` and you are in the project's session; detach, and come back
to the same session.

Exit codes: 0 success; 1 failure; 2 usage error; 130 interrupted;
255 the VM could not be reached over SSH; otherwise the remote command's
exit status (attach, shell).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			level := slog.LevelWarn
			if a.Verbose || a.Getenv("SYSVM_DEBUG") != "" {
				level = slog.LevelDebug
			}
			log := a.ui.Log(level)
			a.ui.Quiet, a.ui.Verbose = a.Quiet, a.Verbose
			a.f = factory.Factory{Getenv: a.Getenv, UI: a.ui, Name: a.Name, Log: log}
			// Every later state.Default is then absolute, and safe to use.
			d, err := state.Resolve(a.Getenv)
			if err != nil {
				return err
			}
			return d.Check()
		},
	}
	root.SetOut(a.Out)
	root.SetErr(a.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return hint.Usage(err) })
	pf := root.PersistentFlags()
	pf.BoolVarP(&a.Verbose, "verbose", "v", false, "log every limactl and ssh step to stderr")
	pf.BoolVarP(&a.Quiet, "quiet", "q", false, "print no progress")
	pf.StringVar(&a.Name, "name", "", "use this project name instead of the one derived from the directory")
	root.AddCommand(
		a.cmdUp(), a.cmdStop(), a.cmdDestroy(), a.cmdStatus(), a.cmdList(), a.cmdConfig(),
		a.cmdAttach(), a.cmdShell(), a.cmdSessions(), a.cmdForgetHostKey(),
		a.cmdHook(), a.cmdDirenvrc(), a.cmdDirenvExport(), a.cmdBroker(),
		a.cmdVersion(), a.cmdInit(), a.cmdAllow(),
	)
	return root
}

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

func (a *App) cmdVersion() *cobra.Command {
	return command("version", "Print sysvm's version", noArgs, func(*cobra.Command, []string) error {
		_, err := fmt.Fprintf(a.Out, "sysvm %s\n", Version)
		return err
	})
}

// command is a cobra command with the fields every sysvm command sets.
func command(use, short string, args cobra.PositionalArgs, run func(*cobra.Command, []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: run}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return hint.Usage(fmt.Errorf("%s takes no arguments", cmd.CommandPath()))
	}
	return nil
}

func maxOneArg(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return hint.Usage(fmt.Errorf("%s takes at most one project name or directory, got %d", cmd.CommandPath(), len(args)))
	}
	return nil
}

// jsonFlag adds --json to cmd.
func jsonFlag(cmd *cobra.Command, asJSON *bool) *cobra.Command {
	cmd.Flags().BoolVar(asJSON, "json", false, "print JSON")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// confirm asks a yes/no question on the terminal unless yes already
// answered it; without a terminal it refuses and hints at the flag that
// answers yes. A "no" prints nothing changed.
func (a *App) confirm(yes bool, question, refusal, yesFlag string) (bool, error) {
	if yes {
		return true, nil
	}
	if !a.ui.CanPrompt() {
		return false, hint.Wrap(fmt.Errorf("refusing to %s without confirmation", refusal), yesFlag)
	}
	return a.ui.Confirm(question), nil
}

// project resolves the command's argument (see project.Lookup); names are
// looked up in sysvm's registry.
func (a *App) project(args []string) (*project.Project, error) {
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	p, err := project.Lookup(arg, a.f.ProjectOptions(), a.f.StateDir().Known)
	if err == nil {
		for _, n := range p.Notes {
			a.ui.Note("%s", n)
		}
	}
	return p, err
}

// projectSettings resolves the command's project and its settings, once
// the user has allowed the project's files (see package allow). With
// askAllow set and a terminal, it asks rather than refuses.
func (a *App) projectSettings(args []string, o limaconfig.Overrides) (*project.Project, limaconfig.Settings, error) {
	p, err := a.project(args)
	if err != nil {
		return nil, limaconfig.Settings{}, err
	}
	err = allow.Check(a.f.StateDir(), p)
	var na *allow.NotAllowedError
	if errors.As(err, &na) && a.askAllow && a.ui.CanPrompt() {
		a.ui.Tell("%s", na.Error())
		if len(na.Risky) > 0 {
			// Said again right above the question, so that nothing the
			// files print can have pushed it out of sight.
			a.ui.Tell("they reach beyond the project: %s", strings.Join(na.Risky, ", "))
		}
		if ok, cerr := a.confirm(false, "Allow them as they are now?", "", ""); cerr == nil && ok {
			_, err = allow.Allow(a.f.StateDir(), p)
		}
	}
	if err != nil {
		return nil, limaconfig.Settings{}, err
	}
	s, err := a.f.Settings(p, o)
	return p, s, err
}

// exitCode passes a remote command's exit status through as sysvm's own.
func exitCode(code int, err error) error {
	if err != nil || code == 0 {
		return err
	}
	return &ExitError{Code: code}
}
