// Command fakelimactl is the test lab's stand-in for `limactl`: Lima v1.2.2
// by default, or a 2.x release chosen with $FAKELIMA_VERSION (2.0.0, 2.1.0,
// 2.2.0; "2" means 2.2.0). version.go holds what differs between releases,
// each difference citing the Lima source it follows.
//
// It keeps Lima's CLI and on-disk contract (Lima's source at v1.2.2:
// cmd/limactl, pkg/store, pkg/store/filenames, pkg/sshutil; test/realvm
// compares it with the real limactl) but, instead of
// booting a QEMU guest, a "VM" is a real OpenSSH sshd bound to 127.0.0.1 on a
// fresh port per start. The guest user is the current OS user; the guest
// filesystem is the host filesystem (so mounts are implicitly "same path").
//
// What is emulated faithfully:
//   - $LIMA_HOME (default ~/.lima) layout: <name>/{lima.yaml, lima-version,
//     cloud-config.yaml, ha.pid, qemu.pid, ha.sock, ha.stdout.log,
//     ha.stderr.log, ssh.config, ssh.sock}, _config/{user,user.pub}.
//   - Status derived from ha.pid / qemu.pid exactly like store.Inspect
//     (both alive: Running; both absent: Stopped; otherwise Broken; stale pid
//     files of dead processes are removed). The hostagent serves
//     GET /v1/info on ha.sock like the real one.
//   - `limactl start` spawns a detached `limactl hostagent` process that
//     writes JSON events to ha.stdout.log and JSON log lines to
//     ha.stderr.log; start tails both ("[hostagent] ..." propagation), prints
//     "SSH Local Port: N" and READY, or fails on an exiting event/timeout.
//   - ssh.config is byte-for-byte Lima v1.2.2's format; the ControlMaster
//     (ssh.sock) is started by the hostagent like the real one.
//   - Log lines: logrus non-TTY text format on stderr, one level=fatal line
//     and exit 1 on errors; list --json NDJSON with the real key order.
//
// Process model: ha.pid holds the fake hostagent (a `limactl hostagent`
// process in its own session, so it outlives `limactl start`); qemu.pid
// holds the sshd listener, a child of the hostagent (during
// FAKELIMA_BOOT_DELAY it holds the hostagent's own pid: the "VM" runs but
// SSH is not up yet). The hostagent is a child subreaper, so guest daemons
// (e.g. the zellij stand-in's tmux server) stay in its process tree. A stop
// (graceful or -f) kills sshd with every connection and session, the guest
// tmux server ($ZELLIJ_STANDIN_DIR=<instdir>/guest) and every process whose
// environment carries FAKELIMA_INSTANCE_DIR=<instdir>, like a VM power-off.
// Guest SSH sessions get PATH, HOME=<user.home>, ZELLIJ_STANDIN_DIR,
// FAKELIMA_INSTANCE, FAKELIMA_INSTANCE_DIR and the lima.yaml `env:` map via
// sshd's SetEnv; their working directory is the user's passwd home.
// Each start truncates serial.log (and an empty serialv.log) like QEMU; once
// sshd listens, the console gets cloud-init's block of host key
// fingerprints for the sshd's key, as a real guest prints at boot.
//
// Deliberate deviations (documented where implemented):
//   - It refuses root only with FAKELIMA_REFUSE_ROOT=1 (CI runs as root).
//   - 1.2.2 only: `start NAME` for a non-existent NAME fails with
//     `instance "NAME" does not exist` instead of creating NAME from
//     template://default. The 2.x personalities create it, like Lima.
//   - `shell` on a stopped instance fails (≤1.0 / 2.1+ behaviour) instead of
//     1.2's prompt; commands run via `$SHELL -c`, not a login shell, so the
//     guest PATH set by sshd survives Debian's /etc/profile.
//   - _config/default.yaml and override.yaml are not merged; templates
//     other than 2.x's template:default, URLs, --set and friends are not
//     supported.
//   - The guest user is always the current OS user; user.home defaults to
//     <instdir>/home (exported as $HOME in guest sessions).
//   - With FAKELIMA_LEAVE_BROKEN, start fails as soon as the hostagent
//     reports its error instead of waiting for --timeout.
//
// Test knobs (environment variables read by start/hostagent; each applies to
// every instance unless FAKELIMA_ONLY=<name> restricts it to one):
//
//	FAKELIMA_VERSION=2.2.0   the Lima release to behave as (default 1.2.2)
//	FAKELIMA_BOOT_DELAY=2s   sleep while "booting", logging progress every 0.5s
//	FAKELIMA_START_FAIL=1    hostagent exits: fatal `exiting, status=...`, exit 1
//	FAKELIMA_START_HANG=1    never reach running: fatal after --timeout
//	FAKELIMA_LEAVE_BROKEN=1  leave only a live ha.pid (status Broken), exit 1
//	FAKELIMA_NO_CONTROLMASTER=1  do not pre-start the ssh ControlMaster
//	FAKELIMA_GUEST_PATH=...  PATH inside guest sessions (default
//	                         <dir of this binary>/guest-bin:/usr/local/bin:/usr/bin:/bin)
//	FAKELIMA_SSHD=/path      sshd binary (default /usr/sbin/sshd)
//	FAKELIMA_NO_CONSOLE_KEYS=1  the guest prints no host key fingerprints on
//	                         its console (serial.log)
//	FAKELIMA_MAX_SESSIONS=10 sshd's MaxSessions (default 100)
//	FAKELIMA_REFUSE_ROOT=1   refuse to run as root, as the release does
//
// Every invocation except the internal hostagent appends its argv (joined by
// spaces) to $LIMA_HOME/_fake/calls.log.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// globalFlags are cobra persistent flags accepted before or after the
// subcommand.
var globalFlags = []flagSpec{
	{long: "tty", kind: boolFlag},
	{long: "debug", kind: boolFlag},
	{long: "yes", short: "y", kind: boolFlag},
	{long: "log-level", kind: valueFlag},
	{long: "log-format", kind: valueFlag},
	{long: "help", short: "h", kind: boolFlag},
	{long: "version", kind: boolFlag},
}

type command struct {
	flags        []flagSpec
	interspersed bool
	run          func(f *parsedFlags) error
}

var commands = map[string]command{
	"list": {flags: []flagSpec{
		{long: "json", kind: boolFlag},
		{long: "quiet", short: "q", kind: boolFlag},
		{long: "format", short: "f", kind: valueFlag},
		{long: "all-fields", kind: boolFlag},
		{long: "list-fields", kind: boolFlag},
	}, interspersed: true, run: listAction},
	"create": {flags: []flagSpec{
		{long: "name", kind: valueFlag},
	}, interspersed: true, run: createAction},
	"start": {flags: []flagSpec{
		{long: "name", kind: valueFlag},
		{long: "timeout", kind: valueFlag},
		{long: "foreground", kind: boolFlag},
	}, interspersed: true, run: startAction},
	"stop": {flags: []flagSpec{
		{long: "force", short: "f", kind: boolFlag},
	}, interspersed: true, run: stopAction},
	"delete": {flags: []flagSpec{
		{long: "force", short: "f", kind: boolFlag},
	}, interspersed: true, run: deleteAction},
	"shell": {flags: []flagSpec{
		{long: "workdir", kind: valueFlag},
		{long: "shell", kind: valueFlag},
		{long: "reconnect", kind: boolFlag},
	}, interspersed: false, run: shellAction},
	"edit": {flags: []flagSpec{
		{long: "set", kind: valueFlag},
	}, interspersed: true, run: editAction},
	"validate": {flags: []flagSpec{
		{long: "fill", kind: boolFlag},
	}, interspersed: true, run: validateAction},
	"hostagent": {flags: []flagSpec{
		{long: "pidfile", kind: valueFlag},
		{long: "socket", kind: valueFlag},
		{long: "guestagent", kind: valueFlag},
		{long: "nerdctl-archive", kind: valueFlag},
		{long: "run-gui", kind: boolFlag},
	}, interspersed: true, run: hostagentAction},
}

// aliases maps cobra aliases to their command.
var aliases = map[string]string{
	"ls":     "list",
	"remove": "delete",
	"rm":     "delete",
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// exitCodeError carries an exit code without a fatal log line, like Lima's
// ExitCoder errors (e.g. list's "unmatched instances" in v1.2).
type exitCodeError int

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func run(args []string) int {
	sub, rest := splitSubcommand(args)
	if name, ok := aliases[sub]; ok {
		sub = name
	}
	if sub != "hostagent" {
		recordCall(args)
	}
	if err := refusesRoot(sub); errors.Is(err, errRootBeforeCommand) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	} else if err != nil {
		return fatal(err)
	}
	if sub == "" {
		f, err := parseFlags(rest, globalFlags, true)
		if err != nil {
			return fatal(err)
		}
		if f.bool("version") {
			fmt.Println("limactl version " + lima.String())
			return 0
		}
		fmt.Println("Lima: Linux virtual machines (fakelimactl test stand-in)")
		fmt.Println("Usage: limactl [command]")
		return 0
	}
	cmd, ok := commands[sub]
	if !ok {
		return fatal(fmt.Errorf("unknown command %q for %q", sub, "limactl"))
	}
	specs := append(append(append([]flagSpec{}, globalFlags...), cmd.flags...), sinceFlags(sub)...)
	f, err := parseFlags(rest, specs, cmd.interspersed)
	if err != nil {
		return fatal(err)
	}
	if err := cmd.run(f); err != nil {
		var code exitCodeError
		if errors.As(err, &code) {
			return int(code)
		}
		var pass passExitError
		if errors.As(err, &pass) {
			return pass.code
		}
		return fatal(err)
	}
	return 0
}

// splitSubcommand finds the first positional argument (the subcommand),
// skipping global flags and their values.
func splitSubcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return "", args
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest := append(append([]string{}, args[:i]...), args[i+1:]...)
			return a, rest
		}
		if (a == "--log-level" || a == "--log-format") && i+1 < len(args) {
			i++
		}
	}
	return "", args
}

// recordCall appends argv to $LIMA_HOME/_fake/calls.log so tests can count
// invocations. Failures are ignored: the log is a test aid only.
func recordCall(args []string) {
	home, err := limaHome()
	if err != nil {
		return
	}
	dir := home + "/_fake"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(dir+"/calls.log", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(strings.Join(args, " ") + "\n")
}
