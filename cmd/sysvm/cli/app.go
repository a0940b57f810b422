// Package cli is sysvm's command-line interface: the cobra command tree,
// the mapping of errors to messages, hints and exit codes, and the only
// place that exits.
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
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/broker"
	"github.com/sysvm/sysvm/detach"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/session"
	"github.com/sysvm/sysvm/shellhook"
	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/vm"
	"github.com/sysvm/sysvm/zellij/release"
	"golang.org/x/term"
)

// Exit codes, documented in `sysvm help` and the README.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
	ExitUnreachable = 255
)

// App is one invocation's environment: streams, variables, flags.
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
	log      *slog.Logger
	// stateOverride is the state directory `broker serve --state-dir` names.
	stateOverride state.Dir
}

// ExitError carries an exit status to Main without printing anything (the
// remote command's status, passed through).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

type usageError struct{ error }

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
	root := a.newRoot()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return a.report(err)
}

func (a *App) report(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	fmt.Fprintf(a.ErrOut, "sysvm: error: %s\n", shown(err.Error()))
	for _, s := range hint.Of(err) {
		fmt.Fprintf(a.ErrOut, "sysvm: hint: %s\n", shown(s))
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, vm.ErrInterrupted), errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, session.ErrUnreachable):
		return ExitUnreachable
	}
	return ExitFailure
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
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelWarn
			if a.Verbose || a.Getenv("SYSVM_DEBUG") != "" {
				level = slog.LevelDebug
			}
			a.log = slog.New(slog.NewTextHandler(a.ErrOut, &slog.HandlerOptions{Level: level}))
			// Every later state.Default is then absolute.
			_, err := state.Resolve(a.Getenv)
			return err
		},
	}
	root.SetOut(a.Out)
	root.SetErr(a.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.BoolVarP(&a.Verbose, "verbose", "v", false, "log every limactl and ssh step to stderr")
	pf.BoolVarP(&a.Quiet, "quiet", "q", false, "print no progress")
	pf.StringVar(&a.Name, "name", "", "use this project name instead of the one derived from the directory")
	root.AddCommand(
		a.cmdUp(), a.cmdStop(), a.cmdDestroy(), a.cmdStatus(), a.cmdList(), a.cmdConfig(),
		a.cmdAttach(), a.cmdShell(), a.cmdSessions(), a.cmdForgetHostKey(),
		a.cmdHook(), a.cmdDirenvrc(), a.cmdDirenvExport(), a.cmdBroker(),
		a.cmdVersion(),
		a.cmdInit(), a.cmdAllow(),
	)
	return root
}

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

func (a *App) cmdVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print sysvm's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.Out, "sysvm %s\n", Version)
			return nil
		},
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments", cmd.CommandPath())}
	}
	return nil
}

func maxOneArg(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usageError{fmt.Errorf("%s takes at most one project name or directory, got %d", cmd.CommandPath(), len(args))}
	}
	return nil
}

// outFile returns stdout as a file, for terminal size and raw mode.
func (a *App) outFile() *os.File {
	if f, ok := a.Out.(*os.File); ok {
		return f
	}
	return os.Stdout
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stderrTTY reports whether progress can be drawn in place.
func (a *App) stderrTTY() bool { return term.IsTerminal(int(a.ErrOut.Fd())) }

// stdinTTY reports whether sysvm can ask a question.
func (a *App) stdinTTY() bool { return a.In != nil && term.IsTerminal(int(a.In.Fd())) }

func (a *App) limaHome() string { return lima.Home(a.Getenv) }

func (a *App) stateDir() state.Dir {
	if a.stateOverride != "" {
		return a.stateOverride
	}
	return state.Default(a.Getenv)
}

// durationEnv reads a duration setting from the environment: def when
// unset, a usage error when it is not a positive duration.
func (a *App) durationEnv(name string, def time.Duration) (time.Duration, error) {
	v := a.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usageError{fmt.Errorf("%s=%q is not a duration such as 10m", name, v)}
	}
	return d, nil
}

// vms assembles the VM lifecycle for this invocation.
func (a *App) vms() (*vm.Manager, error) {
	exe, err := lima.Find(a.Getenv)
	if err != nil {
		return nil, hint.Wrap(err,
			"install Lima: https://lima-vm.io/docs/installation/ (macOS: `brew install lima`)",
			"or set LIMACTL to the path of limactl")
	}
	sd := a.stateDir()
	if _, err := sd.MkdirAll(); err != nil {
		return nil, err
	}
	timeout, err := a.durationEnv("SYSVM_START_TIMEOUT", vm.DefaultStartTimeout)
	if err != nil {
		return nil, err
	}
	width := 80
	if w, _, err := term.GetSize(int(a.ErrOut.Fd())); err == nil && w > 0 {
		width = w
	}
	return &vm.Manager{
		Lima:         &lima.Client{Exe: exe, Dir: string(sd), Home: a.limaHome(), CacheDir: string(sd), Log: a.log},
		LimaHome:     a.limaHome(),
		State:        sd,
		Progress:     &vm.Progress{W: a.ErrOut, TTY: a.stderrTTY(), Quiet: a.Quiet, Verbose: a.Verbose, Width: width},
		Log:          a.log,
		Host:         limaconfig.ThisHost(),
		StartTimeout: timeout,
	}, nil
}

// sessions assembles the session layer (and the VM lifecycle below it).
func (a *App) sessions() (*session.Manager, error) {
	v, err := a.vms()
	if err != nil {
		return nil, err
	}
	sd := a.stateDir()
	z := release.Cache{Dir: release.DefaultCacheDir(a.Getenv), Digests: release.DigestsFile(sd), TTY: a.stderrTTY()}
	if !a.Quiet {
		z.Progress = a.ErrOut
	}
	return &session.Manager{VM: v, Broker: a.brokerClient(), Zellij: z, ZellijURL: a.Getenv("SYSVM_ZELLIJ_URL"), Log: a.log}, nil
}

// brokerClient is the client of the user's broker process; nil when
// SYSVM_BROKER=0 asks for direct connections.
func (a *App) brokerClient() *broker.Client {
	if a.Getenv("SYSVM_BROKER") == "0" {
		return nil
	}
	sd := a.stateDir()
	c := &broker.Client{Socket: broker.SocketPath(a.Getenv, sd), State: sd}
	if exe, err := self(); err == nil {
		c.Self = exe
	}
	return c
}

// project resolves the command's argument (see project.Lookup); names are
// looked up in sysvm's registry.
func (a *App) project(args []string) (*project.Project, error) {
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	p, err := project.Lookup(arg, a.projectOptions(), a.stateDir().Known)
	if err == nil {
		for _, n := range p.Notes {
			fmt.Fprintf(a.ErrOut, "sysvm: note: %s\n", shown(n))
		}
	}
	return p, err
}

func (a *App) projectOptions() project.Options {
	home, _ := state.Home(a.Getenv)
	return project.Options{Name: a.Name, LimaHome: a.limaHome(), Home: home}
}
