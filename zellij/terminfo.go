package zellij

// Zellij never sets TERM: its panes inherit the client's, which is the
// TERM of the SSH session, the host's. A guest without that terminfo entry
// breaks every full-screen program in the session.

// FallbackTerm is the TERM a session gets when the guest has no entry for
// the host's and none could be brought: every terminfo database has it.
const FallbackTerm = "xterm-256color"

// HasTerminfoArgv exits 0 when the guest's terminfo (its own ~/.terminfo
// included) describes term.
func HasTerminfoArgv(term string) []string {
	return []string{"/bin/sh", "-c", `infocmp -- "$1" >/dev/null 2>&1`, "sh", term}
}

// installTerminfoScript compiles the entry on stdin (`infocmp -x` output)
// into ~/.terminfo, as kitty's ssh integration does, and checks that the
// guest then knows term.
const installTerminfoScript = `command -v tic >/dev/null 2>&1 || { echo "no tic in the VM" >&2; exit 127; }
f=$(mktemp) || exit 1
cat >"$f" && tic -x -o "$HOME/.terminfo" "$f" >&2; rc=$?
rm -f "$f"
[ "$rc" = 0 ] && infocmp -- "$1" >/dev/null`

// InstallTerminfoArgv installs the terminfo entry for term given on stdin
// into the guest user's ~/.terminfo.
func InstallTerminfoArgv(term string) []string {
	return []string{"/bin/sh", "-c", installTerminfoScript, "sh", term}
}
