package zellij

import (
	"fmt"
	"strings"
)

// Bin is the name of the Zellij executable on a guest's PATH. The argv
// builders below take the path to run instead: the guest's own zellij or
// the one sysvm installed.
const Bin = "zellij"

// AttachArgv attaches to session with the zellij at bin, creating the
// session with layout when it does not exist. `--layout` before `attach`
// is the one form that works from Zellij 0.39 through 0.45 (`attach` has
// no --layout flag, and `--session` with --layout adds tabs to an existing
// session from 0.41 on).
func AttachArgv(bin, layout, session string) []string {
	return []string{bin, "--layout", layout, "attach", "--create", session}
}

// attachScript runs the attach command after its two arguments (the zellij
// at $1 and the session name $2) with these changes:
//   - one first attach per session at a time: under a lock in the guest
//     (in $XDG_RUNTIME_DIR, else ~/.cache/sysvm: never a shared /tmp), a
//     session not yet running is created by one attach while any other
//     waits until it runs (two servers started at once by Zellij 0.45
//     orphan the first: the second unlinks its socket);
//   - the layout only when creating: a running or resurrectable session is
//     attached to without it (0.45 parses --layout even then, so a broken
//     layout would stop every re-attach);
//   - the zellij it runs is on PATH in the session as `zellij` (through a
//     link in <bin>.path when it has another name), for `zellij action`,
//     `zellij run` and `zellij edit` typed in a pane.
const attachScript = `bin=$1 name=$2
shift 2
listed() {
	"$bin" list-sessions --no-formatting 2>/dev/null | awk -v n="$name" -v all="$1" '
		index($0, n " [Created ") == 1 && (all != "" || $0 !~ /[(]EXITED/) { f = 1 } END { exit !f }'
}
case ${bin##*/} in
zellij) PATH="${bin%/*}:$PATH" ;;
*) p="$bin.path"
	{ [ -x "$p/zellij" ] || { mkdir -p "$p" && ln -sf "$bin" "$p/zellij"; }; } 2>/dev/null && PATH="$p:$PATH" ;;
esac
export PATH
dir="${XDG_RUNTIME_DIR:-$HOME/.cache/sysvm}"
lock="$dir/zellij-$name.lock"
if command -v flock >/dev/null 2>&1 && { mkdir -p "$dir" && true 9>>"$lock"; } 2>/dev/null; then
	exec 9>>"$lock"
	flock -w 60 9
	if ! listed; then
		pid=$$
		(i=0; while [ $i -lt 300 ] && kill -0 $pid 2>/dev/null && ! listed; do sleep 0.1; i=$((i+1)); done) </dev/null >/dev/null 2>&1 &
	fi
	exec 9>&-
fi
if listed all; then exec "$bin" attach --create "$name"; fi
exec "$@"`

// QuietSince is the first Zellij with show_startup_tips and
// show_release_notes (zellij-utils/src/input/options.rs@v0.42.0).
const QuietSince = "0.42.0"

// quietOptions turn off the startup tip and the release notes Zellij opens
// in a new session whose layout has no tabs.
var quietOptions = []string{"options", "--show-startup-tips", "false", "--show-release-notes", "false"}

// LockedAttachArgv is AttachArgv with one first attach per session at a
// time, the layout only when creating, and bin's directory on PATH (see
// attachScript). With quiet (a Zellij since QuietSince), the session it
// creates opens no startup tip and no release notes.
func LockedAttachArgv(bin, layout, session string, quiet bool) []string {
	argv := append([]string{"/bin/sh", "-c", attachScript, "sh", bin, session}, AttachArgv(bin, layout, session)...)
	if quiet {
		argv = append(argv, quietOptions...)
	}
	return argv
}

// ListArgv lists sessions in the parseable form.
func ListArgv(bin string) []string { return []string{bin, "list-sessions", "--no-formatting"} }

// DeleteArgv deletes a dead session so the next attach creates it afresh
// (attach --create would resurrect the old layout).
func DeleteArgv(bin, session string) []string { return []string{bin, "delete-session", session} }

// stageScript writes stdin to the guest's cache as the session's layout
// (through a temporary file of its own: two attaches may stage at once)
// and prints its absolute path.
const stageScript = `d="${XDG_CACHE_HOME:-$HOME/.cache}/sysvm/layouts"
mkdir -p "$d" && cat >"$d/$1.kdl.$$" && mv -f "$d/$1.kdl.$$" "$d/$1.kdl" && printf '%s\n' "$d/$1.kdl"`

// StageLayoutArgv copies the layout (given on stdin) into the guest.
func StageLayoutArgv(session string) []string {
	return []string{"/bin/sh", "-c", stageScript, "sh", session}
}

// LoginShellArgv starts the guest user's login shell.
func LoginShellArgv() []string {
	return []string{"/bin/sh", "-c", `exec "${SHELL:-/bin/sh}" -l`}
}

// Session is one line of `zellij list-sessions --no-formatting`.
type Session struct {
	Name    string `json:"name"`
	Created string `json:"created,omitempty"`
	Exited  bool   `json:"exited"`
	Current bool   `json:"current,omitempty"`
}

// NoSessions is what Zellij prints on stderr when there is nothing to list.
const NoSessions = "No active zellij sessions found."

// ParseList reads `zellij ls -n` output:
//
//	NAME [Created 1h 2m 3s ago] (EXITED - attach to resurrect)
func ParseList(out string) []Session {
	var ss []Session
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, " \r")
		if line == "" {
			continue
		}
		var s Session
		i := strings.Index(line, " [Created ")
		if i < 0 {
			s.Name = strings.TrimSpace(line)
			ss = append(ss, s)
			continue
		}
		s.Name = line[:i]
		rest := line[i+len(" [Created "):]
		if j := strings.Index(rest, " ago]"); j >= 0 {
			s.Created = rest[:j]
			rest = rest[j+len(" ago]"):]
		}
		rest = strings.TrimSpace(rest)
		s.Exited = strings.HasPrefix(rest, "(EXITED")
		s.Current = rest == "(current)"
		ss = append(ss, s)
	}
	return ss
}

// Find returns the session named name.
func Find(ss []Session, name string) (Session, bool) {
	for _, s := range ss {
		if s.Name == name {
			return s, true
		}
	}
	return Session{}, false
}

// State describes a session for status output.
func (s Session) State() string {
	if s.Exited {
		return "exited"
	}
	return "running"
}

// MissingError means Zellij is not installed in the VM.
type MissingError struct{ VM string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("zellij is not installed in the VM %s", e.VM)
}
