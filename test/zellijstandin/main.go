// Command zellijstandin is the test lab's stand-in for the `zellij` CLI
// (it claims to be Zellij 0.45.0), built on tmux. It is installed as
// `zellij` in the fake Lima guest's PATH. It follows Zellij's source at
// v0.45.0; the files below are paths in that tree, and contract_test.go
// lists each behaviour with its source.
//
// Every session is a tmux session on a private server:
// `tmux -S $ZELLIJ_STANDIN_DIR/tmux.sock` (default directory
// ${XDG_RUNTIME_DIR:-/tmp}/zellij-standin-<uid>). Session names are passed to
// tmux verbatim except that bytes tmux cannot keep in a session name
// ('.', ':', '%', spaces, non-ASCII, ...) are written as %XX.
//
// Implemented:
//   - `--version` → "zellij 0.45.0".
//   - `[--layout L] attach [-c|--create] [-b|--create-background]
//     [-f|--force-run-commands] [--index N] [NAME] [options --default-layout
//     L --default-cwd D --default-shell S --session-serialization B ...]`:
//     exact lookup with -c/-b, unique-prefix lookup without (ambiguous: stdout
//     list, exit 1; none: `No session with the name 'NAME' found!`, exit 1),
//     no name (0/1/many live sessions), `Session already exists` for -b on a
//     live session, the attach-to-self panic (exit 101), the layout file
//     check (`IoError: ..., File: <path>`, exit 1, even for existing
//     sessions), resurrection of dead sessions with their cached layout
//     (ignoring --layout), command panes of resurrected sessions waiting for
//     ENTER unless -f, and the 0.44.1+ socket-path-length error
//     (zellij-utils/src/cli.rs, src/commands.rs).
//   - Foreground attach needs a TTY on stdin, else the 0.39-style
//     "failed to open terminal:" / "ENOTTY: Not a typewriter", exit 1, and
//     nothing is created. The client is a tmux client; after it returns the
//     stand-in prints "Session detached" (session still alive) or
//     "Bye from Zellij!" (session gone) and exits 0
//     (zellij-client/src/os_input_output.rs, zellij-client/src/lib.rs).
//   - Host terminal modes (modes.go): the kitty keyboard protocol, host
//     theme notifications and focus reporting on at attach, off before the
//     goodbye line of a clean exit, nothing for a client killed with its
//     terminal (zellij-client/src/lib.rs:54-67, :970-981, :1177, :1758-1772).
//   - Ctrl-o d detaches, as 0.45's default key bindings do
//     (zellij-utils/assets/config/default.kdl:123-126, :227); tmux's
//     Ctrl-b d (Zellij's tmux mode, default.kdl:173-192) works too.
//   - Layouts (zellij-utils/src/input/layout.rs): `layout { cwd "..." tab name="x" cwd="y" focus=true
//     { pane command="c" { args ... } } }` → one tmux window per tab (cwd
//     composed like Zellij), the first command pane of a tab as the window's
//     command (kept open after exit, like a held command pane); without tabs,
//     one window. Everything else (splits, plugins, templates, sizes) is
//     parsed and ignored. The layout path used to create a session is
//     recorded in $ZELLIJ_STANDIN_DIR/sessions/NAME/layout ("default" for
//     the built-in one); sessions/NAME/origin is "created" or "resurrected".
//   - Serialization (zellij-utils/src/sessions.rs): every new session is treated as serialized at once:
//     $ZELLIJ_STANDIN_DIR/cache/NAME/session-layout.kdl is written at creation
//     (unless `options --session-serialization false`), so a killed or exited
//     session is listed as EXITED and `attach -c` resurrects it.
//   - Panes get ZELLIJ=0, ZELLIJ_SESSION_NAME=NAME, ZELLIJ_PANE_ID=<n>
//     (0-based per session) plus the creating client's environment,
//     TERM included (Zellij never sets TERM), minus TMUX*
//     (zellij-utils/src/envs.rs).
//   - `list-sessions`/`ls` [-n] [-s] [-r]: exact line format incl. the
//     trailing space, (current), (EXITED - attach to resurrect), humantime
//     ages, oldest first, the ANSI form without -n, and
//     "No active zellij sessions found." (stderr, exit 1)
//     (zellij-utils/src/sessions.rs).
//   - `kill-session`, `delete-session [-f]`, `kill-all-sessions [-y]`,
//     `delete-all-sessions [-y] [-f]` with their messages and exit codes
//     (src/commands.rs).
//   - `zellij -s NAME [-n L]` creates a new session (fails if
//     NAME exists); plain `zellij` creates a randomly named one (src/main.rs).
//   - Unknown arguments: clap 4's error on stderr, exit 2 (Cargo.lock:570-571).
//
// Not implemented: pane splits, floating panes, plugins, swap layouts,
// `zellij action/run/edit/setup/pipe/web`, config files (config.kdl is never
// read or written), remote attach, the first-run wizard, the 0.40+ no-TTY
// panic (the 0.39 error is emitted instead), the "Did you mean" hints,
// and Zellij's key bindings other than Ctrl-o d. tmux's
// status line stays on, so a pane is one row shorter than the terminal
// (real Zellij panes are smaller still: tab bar, status bar, frames); tmux
// prints its own "[detached ...]"/"[exited]" line before the Zellij exit
// text.
package main

import (
	"fmt"
	"os"
	"strings"
)

const zellijVersion = "0.45.0"

// topOpts are the top-level `zellij` options.
type topOpts struct {
	layout     string
	session    string
	newLayout  string // -n/--new-session-with-layout
	configDir  string
	configFile string
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// clapError prints clap 4's error for an unexpected argument (Zellij 0.45
// parses its command line with clap 4.6.4, Cargo.lock@v0.45.0:570-571) and
// returns clap's exit code 2.
func clapError(arg, usage string) int {
	fmt.Fprintf(os.Stderr, "error: unexpected argument '%s' found\n\n", arg)
	if strings.HasPrefix(arg, "-") {
		fmt.Fprintf(os.Stderr, "  tip: to pass '%s' as a value, use '-- %s'\n\n", arg, arg)
	}
	fmt.Fprintf(os.Stderr, "Usage: %s\n\nFor more information, try '--help'.\n", usage)
	return 2
}

// missingValue prints clap 4's error for an option without its value.
func missingValue(flag, usage string) int {
	fmt.Fprintf(os.Stderr, "error: a value is required for '%s <%s>' but none was supplied\n\n", flag, strings.ToUpper(strings.TrimLeft(flag, "-")))
	fmt.Fprintf(os.Stderr, "Usage: %s\n\nFor more information, try '--help'.\n", usage)
	return 2
}

const topUsage = "zellij [OPTIONS] [COMMAND]"

func run(args []string) int {
	var top topOpts
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, val, hasVal := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "--") {
			flag, hasVal = a, false
		}
		takeValue := func() (string, bool) {
			if hasVal {
				return val, true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		switch flag {
		case "-V", "--version":
			fmt.Println("zellij " + zellijVersion)
			return 0
		case "-h", "--help":
			fmt.Print(helpText)
			return 0
		case "-l", "--layout", "-s", "--session", "-n", "--new-session-with-layout",
			"-c", "--config", "--config-dir", "--data-dir", "--max-panes":
			v, ok := takeValue()
			if !ok {
				return missingValue(flag, topUsage)
			}
			switch flag {
			case "-l", "--layout":
				top.layout = v
			case "-s", "--session":
				top.session = v
			case "-n", "--new-session-with-layout":
				top.newLayout = v
			case "-c", "--config":
				top.configFile = v
			case "--config-dir":
				top.configDir = v
			}
		case "-d", "--debug", "--sandbox":
		default:
			if strings.HasPrefix(a, "-") {
				return clapError(a, topUsage)
			}
			return subcommand(top, a, args[i+1:])
		}
	}
	return newSession(top)
}

func subcommand(top topOpts, name string, rest []string) int {
	switch name {
	case "attach", "a":
		return cmdAttach(top, rest)
	case "list-sessions", "ls":
		return cmdListSessions(rest)
	case "kill-session", "k":
		return cmdKillSession(rest)
	case "delete-session", "d":
		return cmdDeleteSession(rest)
	case "kill-all-sessions", "ka":
		return cmdKillAll(rest)
	case "delete-all-sessions", "da":
		return cmdDeleteAll(rest)
	case "options", "setup", "action", "ac", "run", "r", "edit", "e", "plugin", "pipe", "web", "convert-config", "convert-layout", "convert-theme":
		fmt.Fprintf(os.Stderr, "zellij stand-in: `zellij %s` is not emulated\n", name)
		return 2
	default:
		fmt.Fprintf(os.Stderr, "error: unrecognized subcommand '%s'\n\nUsage: %s\n\nFor more information, try '--help'.\n", name, topUsage)
		return 2
	}
}

const helpText = `zellij ` + zellijVersion + ` (test stand-in built on tmux)

Usage: zellij [OPTIONS] [COMMAND]

Commands:
    attach, a                 Attach to a session
    delete-all-sessions, da   Delete all resurrectable sessions
    delete-session, d         Delete a specific resurrectable session
    kill-all-sessions, ka     Kill all sessions
    kill-session, k           Kill a specific session
    list-sessions, ls         List active sessions
`
