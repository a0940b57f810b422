// Package cli is sysvm's command-line interface: the table of commands,
// the one path from a result to stdout (text, or JSON with --json), the
// mapping of errors to messages, hints and exit codes, and the only place
// that exits. Each command parses its flags, makes one call into package
// app (which does the work and says what it does through package ui) and
// prints the result; it never does the work itself. Long help texts are
// embedded files under help/.
package cli

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/app"
	"github.com/sysvm/sysvm/hint"
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

	// flags are the global flags.
	flags app.Globals
	// app runs the commands, once the global flags are parsed.
	app *app.App
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
	args := app.Process(os.Args)
	c := &App{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Getenv: os.Getenv}
	return c.Run(args)
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

// report renders a command's error, the one place errors reach the user,
// and returns the exit code of its kind.
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
		Use:           "sysvm",
		Short:         "A Lima VM and a Zellij session for every project directory",
		Long:          help("sysvm"),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) (err error) {
			a.app, err = app.New(a.Getenv, a.ui, a.flags)
			return err
		},
	}
	root.SetOut(a.Out)
	root.SetErr(a.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return hint.Usage(err) })
	pf := root.PersistentFlags()
	pf.BoolVarP(&a.flags.Verbose, "verbose", "v", false, "log every limactl and ssh step to stderr")
	pf.BoolVarP(&a.flags.Quiet, "quiet", "q", false, "print no progress")
	pf.StringVar(&a.flags.Name, "name", "", "use this project name instead of the one derived from the directory")
	root.AddCommand(a.commands()...)
	return root
}

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

//go:embed help/*.txt
var helpFiles embed.FS

// help is the long help text of the command name, "" when it has none.
func help(name string) string {
	b, _ := helpFiles.ReadFile("help/" + name + ".txt")
	return strings.TrimSuffix(string(b), "\n")
}

// command is one row of the table: a cobra command with the fields every
// sysvm command sets, its long help from help/NAME.txt, and its flags
// bound by each of flags.
func command(use, short string, args cobra.PositionalArgs, run func(*cobra.Command, []string) error, flags ...func(*cobra.Command)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args, RunE: run}
	cmd.Long = help(cmd.Name())
	for _, f := range flags {
		f(cmd)
	}
	return cmd
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

// arg is a command's optional project or directory, "" for the current
// directory's project.
func arg(args []string) string { return append(args, "")[0] }

// jsonFlag binds --json to asJSON.
func jsonFlag(asJSON *bool) func(*cobra.Command) {
	return func(cmd *cobra.Command) { cmd.Flags().BoolVar(asJSON, "json", false, "print JSON") }
}

// print is the one way a command's result reaches stdout, unless err:
// text as it is; JSON when asJSON or when the result has no text form;
// else the result's own text form.
func (a *App) print(v any, err error, asJSON bool) error {
	if err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		_, err = io.WriteString(a.Out, v)
		return err
	case interface{ WriteText(io.Writer) error }:
		if !asJSON {
			return v.WriteText(a.Out)
		}
	}
	enc := json.NewEncoder(a.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// exitCode passes a remote command's exit status through as sysvm's own.
func exitCode(code int, err error) error {
	if err != nil || code == 0 {
		return err
	}
	return &ExitError{Code: code}
}
