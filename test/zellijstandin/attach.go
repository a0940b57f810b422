package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/term"
)

const attachUsage = "zellij attach [OPTIONS] [SESSION_NAME] [COMMAND]"

// attachOpts are the flags of `zellij attach`.
type attachOpts struct {
	name       string
	create     bool
	background bool
	forceRun   bool
	index      int // -1 when unset
	options    map[string]string
}

func parseAttach(args []string) (attachOpts, int) {
	o := attachOpts{index: -1, options: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-c", "--create":
			o.create = true
		case "-b", "--create-background":
			o.background = true
		case "-f", "--force-run-commands":
			o.forceRun = true
		case "-r", "--remember", "--forget", "--insecure":
		case "-t", "--token", "--ca-cert", "--index":
			if i+1 >= len(args) {
				return o, missingValue(a, attachUsage)
			}
			i++
			if a == "--index" {
				n, err := strconv.Atoi(args[i])
				if err != nil || n < 0 {
					fmt.Fprintf(os.Stderr, "error: invalid value '%s' for '--index <INDEX>': invalid digit found in string\n\nFor more information, try '--help'.\n", args[i])
					return o, 2
				}
				o.index = n
			}
		case "-h", "--help":
			fmt.Printf("Usage: %s\n", attachUsage)
			return o, 0
		case "options":
			code := parseOptions(args[i+1:], o.options)
			return o, code
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				return o, clapError(a, attachUsage)
			}
			if o.name != "" {
				return o, clapError(a, attachUsage)
			}
			o.name = a
		}
	}
	return o, -1
}

// parseOptions reads `options --key value ...` pairs; flags without a value
// are recorded as "true".
func parseOptions(args []string, into map[string]string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			return clapError(a, "zellij attach options [OPTIONS]")
		}
		key, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok {
			val = "true"
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				val = args[i]
			}
		}
		into[key] = val
	}
	return -1
}

// rustIOError formats err like Rust's io::Error Display.
func rustIOError(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if msg != "" {
			msg = strings.ToUpper(msg[:1]) + msg[1:]
		}
		return fmt.Sprintf("%s (os error %d)", msg, int(errno))
	}
	return err.Error()
}

// builtinLayouts are the names Zellij ships; the stand-in maps them all to
// one tab with a shell.
var builtinLayouts = map[string]bool{
	"default": true, "compact": true, "classic": true, "strider": true,
	"disable-status-bar": true, "welcome": true,
}

// loadLayout reads and parses a --layout value. It returns the recorded
// layout identity (absolute path, or "default" for built-ins), the spec,
// and an exit code (-1 to continue).
func loadLayout(value, base string) (string, *layoutSpec, int) {
	isPath := filepath.Ext(value) != "" || strings.Contains(value, "/")
	if !isPath {
		if builtinLayouts[value] {
			return "default", defaultLayout(base), -1
		}
		fmt.Fprintf(os.Stderr, "IoError: The layout was not found, File: %s\n", value)
		return "", nil, 1
	}
	path := value
	if !filepath.IsAbs(path) {
		path = filepath.Join(base, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		fmt.Fprintf(os.Stderr, "IoError: %s, File: %s\n", rustIOError(err), path)
		return "", nil, 1
	}
	nodes, err := parseKDL(string(b))
	if err == nil {
		var spec *layoutSpec
		spec, err = layoutFromKDL(nodes, base)
		if err == nil {
			return path, spec, -1
		}
	}
	fmt.Fprintf(os.Stderr, "Error: Failed to parse Zellij layout %s: %v\n", path, err)
	return "", nil, 1
}

func cwdOr(opts map[string]string) string {
	if d := opts["default-cwd"]; d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return "/"
	}
	return wd
}

func cmdAttach(top topOpts, args []string) int {
	o, code := parseAttach(args)
	if code >= 0 {
		return code
	}
	base := cwdOr(o.options)

	// The layout is parsed and validated even when attaching to an existing
	// session, as Zellij's src/commands.rs does.
	layoutID, spec := "default", defaultLayout(base)
	if lv := top.layout; lv != "" || o.options["default-layout"] != "" {
		if lv == "" {
			lv = o.options["default-layout"]
		}
		var c int
		if layoutID, spec, c = loadLayout(lv, base); c >= 0 {
			return c
		}
	}
	if !o.background && !term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprintln(os.Stderr, "failed to open terminal:")
		fmt.Fprintln(os.Stderr, "ENOTTY: Not a typewriter")
		return 1
	}

	live, err := liveSessions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	sortSessions(live)
	name := o.name
	if o.index >= 0 {
		if o.index >= len(live) {
			fmt.Printf("No session indexed by %d found. The following sessions are active:\n", o.index)
			for i, s := range live {
				fmt.Printf("%d: %s\n", i, s.Name)
			}
			return 1
		}
		name = live[o.index].Name
	}
	if name == "" {
		switch {
		case o.create || o.background:
			name = randomName(live)
		case len(live) == 0:
			fmt.Fprintln(os.Stderr, "No active zellij sessions found.")
			return 1
		case len(live) == 1:
			name = live[0].Name
		default:
			fmt.Println("Please specify the session to attach to, either by using the full name or a unique prefix.")
			fmt.Println("The following sessions are active:")
			printList(append(live, deadSessions(live)...), false)
			return 0
		}
	}

	if !o.create && !o.background && !isLive(live, name) && !isDead(name) {
		var matches []session
		for _, s := range live {
			if strings.HasPrefix(s.Name, name) {
				matches = append(matches, s)
			}
		}
		switch len(matches) {
		case 0:
			fmt.Fprintf(os.Stderr, "No session with the name '%s' found!\n", name)
			return 1
		case 1:
			name = matches[0].Name
		default:
			fmt.Printf("Ambiguous selection: multiple sessions names start with '%s':\n", name)
			printList(matches, false)
			return 1
		}
	}
	if cur := os.Getenv("ZELLIJ_SESSION_NAME"); cur != "" && cur == name {
		fmt.Fprintln(os.Stderr, "thread 'main' panicked at src/commands.rs:361:13:")
		fmt.Fprintf(os.Stderr, "You are trying to attach to the current session (%q). This is not supported.\n", name)
		fmt.Fprintln(os.Stderr, "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace")
		return 101
	}

	switch {
	case isLive(live, name):
		if o.background {
			fmt.Fprintln(os.Stderr, "Session already exists")
			return 1
		}
	case isDead(name):
		startingServer()
		if c := resurrect(name, o.forceRun, o.background); c >= 0 {
			return c
		}
	default:
		if c := checkNewName(name); c >= 0 {
			return c
		}
		startingServer()
		if c := createSession(name, layoutID, spec, o.options, o.background); c >= 0 {
			return c
		}
	}
	if o.background {
		return 0
	}
	return attachClient(name)
}

// validateName applies validate_session_name's rules (messages on stderr,
// exit 1). It returns -1 if the name is acceptable.
func validateName(name string) int {
	switch {
	case strings.TrimSpace(name) == "":
		fmt.Fprintln(os.Stderr, "Session name cannot be empty. Please provide a specific session name.")
		return 1
	case name == "." || name == "..":
		fmt.Fprintf(os.Stderr, "Invalid session name: %q.\n", name)
		return 1
	case strings.Contains(name, "/"):
		fmt.Fprintln(os.Stderr, "Session name cannot contain '/'.")
		return 1
	}
	return -1
}

// checkNewName applies validateName and the 0.44.1+ socket path length
// check. It returns -1 if the name is acceptable.
func checkNewName(name string) int {
	if c := validateName(name); c >= 0 {
		return c
	}
	sock := filepath.Join(zellijSocketDir(), name)
	if len(sock) >= 108 {
		fmt.Fprintf(os.Stderr, "Error: the IPC socket path is too long (%d bytes, max 107):\n  %s\n\n", len(sock), sock)
		fmt.Fprintln(os.Stderr, "This is usually caused by a long $TMPDIR path.")
		fmt.Fprintln(os.Stderr, "To fix this, set a shorter socket directory, eg.:")
		fmt.Fprintln(os.Stderr, "  ZELLIJ_SOCKET_DIR=/tmp/zellij zellij")
		return 1
	}
	return -1
}

// zellijSocketDir is where real Zellij 0.44 would put its sockets; only
// used for the name length check.
func zellijSocketDir() string {
	base := os.Getenv("ZELLIJ_SOCKET_DIR")
	if base == "" {
		if x := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(x) {
			base = filepath.Join(x, "zellij")
		} else {
			tmp := os.Getenv("TMPDIR")
			if tmp == "" {
				tmp = "/tmp"
			}
			base = filepath.Join(tmp, fmt.Sprintf("zellij-%d", os.Getuid()))
		}
	}
	return filepath.Join(base, "contract_version_1")
}

// paneEnv is the environment of pane n: the creating client's environment
// plus Zellij's variables.
func paneEnv(name string, n int) []string {
	skip := map[string]bool{"TMUX": true, "TMUX_PANE": true, "ZELLIJ": true,
		"ZELLIJ_SESSION_NAME": true, "ZELLIJ_PANE_ID": true, "COLUMNS": true, "LINES": true}
	var args []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if skip[k] || strings.ContainsAny(kv, "\n") {
			continue
		}
		args = append(args, "-e", kv)
	}
	return append(args, "-e", "ZELLIJ=0", "-e", "ZELLIJ_SESSION_NAME="+name, "-e", "ZELLIJ_PANE_ID="+strconv.Itoa(n))
}

// windowCommand is the argv for a tab's pane with the creating client's
// TERM: Zellij never sets TERM, so its panes inherit the client's (no TERM
// is set anywhere in zellij-server/src at v0.45.0), where tmux would put
// its own default-terminal. A shell pane runs $SHELL as it is, not as a
// login shell (Command::new(cmd.command).args(&cmd.args),
// zellij-server/src/os_input_output_unix.rs:213-225), so the client's
// environment (PATH included) reaches it unchanged.
func windowCommand(t tabSpec, shell string, held bool) []string {
	argv := paneArgv(t, shell, held)
	if argv == nil {
		if shell = os.Getenv("SHELL"); shell == "" {
			shell = "/bin/sh"
		}
		argv = []string{shell}
	}
	if term := os.Getenv("TERM"); term != "" {
		argv = append([]string{"env", "TERM=" + term}, argv...)
	}
	return argv
}

// paneArgv is the argv for a tab's pane (nil: tmux's default shell).
func paneArgv(t tabSpec, shell string, held bool) []string {
	if t.Command == nil {
		if shell != "" {
			return []string{shell}
		}
		return nil
	}
	if held {
		// A resurrected command pane waits for ENTER unless -f was given.
		script := `printf 'Waiting to run: %s\n<ENTER> to run\n' "$*"; read _; exec "$@"`
		return append([]string{"sh", "-c", script, "sh"}, t.Command...)
	}
	return t.Command
}

// startSession creates the tmux session for spec (detached).
func startSession(name string, spec *layoutSpec, shell string, held bool, width, height int) error {
	tn := tmuxName(name)
	args := []string{"new-session", "-d", "-P", "-F", "#{session_id}", "-s", tn, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height)}
	focus := 0
	for i, t := range spec.Tabs {
		if i > 0 {
			args = append(args, ";", "new-window", "-d", "-t", "="+tn+":")
		}
		args = append(args, "-c", t.Cwd, "-n", t.Name)
		args = append(args, paneEnv(name, i)...)
		args = append(args, windowCommand(t, shell, held)...)
		if t.Command != nil {
			args = append(args, ";", "set-option", "-w", "-t", "="+tn+":"+strconv.Itoa(i), "remain-on-exit", "on")
		}
		if t.Focus {
			focus = i
		}
	}
	args = append(args, ";", "select-window", "-t", "="+tn+":"+strconv.Itoa(focus))
	args = append(args, keyBindings()...)
	out, err := tmuxOutput(args...)
	if err != nil && strings.Contains(err.Error(), "duplicate session") {
		// Another server came up in the same moment: this one replaces it.
		if err = orphan(tn); err == nil {
			out, err = tmuxOutput(args...)
		}
	}
	ownSession = strings.TrimSpace(out)
	return err
}

func terminalSize(background bool) (int, int) {
	if !background {
		if w, h, err := term.GetSize(int(os.Stdin.Fd())); err == nil && w > 0 && h > 0 {
			return w, h
		}
		return 80, 24
	}
	return 50, 50
}

// createSession creates a new session from spec and records how. It
// returns -1 on success.
func createSession(name, layoutID string, spec *layoutSpec, opts map[string]string, background bool) int {
	if err := os.MkdirAll(stateDir(), 0o700); err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	w, h := terminalSize(background)
	if err := startSession(name, spec, opts["default-shell"], false, w, h); err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred in server: %v\n", err)
		return 1
	}
	if err := writeRecord(name, layoutID, "created"); err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	recordFirstRunPane(name, spec, opts)
	if opts["session-serialization"] != "false" {
		if err := os.MkdirAll(cacheDir(name), 0o700); err == nil {
			_ = os.WriteFile(cachedLayoutPath(name), []byte(spec.serialize()), 0o600)
		}
	} else {
		_ = os.RemoveAll(cacheDir(name))
	}
	return -1
}

// writeRecord writes sessions/NAME/{layout,origin}; layout is left alone
// when layoutID is "" (resurrection keeps the original layout's record).
func writeRecord(name, layoutID, origin string) error {
	dir := sessionDir(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if layoutID != "" {
		if err := os.WriteFile(filepath.Join(dir, "layout"), []byte(layoutID+"\n"), 0o600); err != nil {
			return err
		}
	}
	created := strconv.FormatInt(time.Now().UnixNano(), 10)
	if err := os.WriteFile(filepath.Join(dir, "created"), []byte(created+"\n"), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "origin"), []byte(origin+"\n"), 0o600)
}

// resurrect recreates a dead session from its cached layout (any --layout
// is ignored). It returns -1 on success.
func resurrect(name string, forceRun, background bool) int {
	path := cachedLayoutPath(name)
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	nodes, err := parseKDL(string(b))
	var spec *layoutSpec
	if err == nil {
		spec, err = layoutFromKDL(nodes, "/")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Failed to parse resurrection layout file %s: %v.\n", path, err)
		return 2
	}
	w, h := terminalSize(background)
	if err := startSession(name, spec, "", !forceRun, w, h); err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred in server: %v\n", err)
		return 1
	}
	if err := writeRecord(name, "", "resurrected"); err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	return -1
}

// attachClient runs a tmux client attached to the session and prints
// Zellij's exit text when it returns.
func attachClient(name string) int {
	// -u: Zellij always writes UTF-8, whatever the locale says.
	target := "=" + tmuxName(name)
	if ownSession != "" {
		// The session this process created, even if it is orphaned since.
		target = ownSession
	}
	cmd := tmux("-u", "attach-session", "-t", target)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	var killed atomic.Bool
	modesOn()
	if err := cmd.Start(); err != nil {
		modesOff()
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				// SIGINT/SIGQUIT come from the terminal and already reach
				// the client; forward the others (on_force_close: detach).
				if s == syscall.SIGTERM || s == syscall.SIGHUP {
					killed.Store(true)
					_ = cmd.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	_ = cmd.Wait()
	close(done)
	if killed.Load() {
		// The terminal went with the client: nothing reaches the host.
		return 0
	}
	modesOff()
	if sessionAlive(name) {
		fmt.Println("Session detached")
	} else {
		fmt.Println("Bye from Zellij!")
	}
	return 0
}

var (
	adjectives = []string{"amazing", "brave", "calm", "dapper", "eager", "fancy", "gentle", "happy", "jolly", "kind", "lively", "merry", "nimble", "proud", "quiet", "silly", "tender", "witty"}
	nouns      = []string{"apple", "badger", "cello", "daisy", "eagle", "flute", "garden", "harp", "island", "jungle", "koala", "lake", "mountain", "nebula", "ocean", "piano", "river", "tiger"}
)

// randomName picks an unused adjective-noun name, as Zellij does.
func randomName(live []session) string {
	for {
		n := adjectives[rand.IntN(len(adjectives))] + "-" + nouns[rand.IntN(len(nouns))]
		if !isLive(live, n) && !isDead(n) {
			return n
		}
	}
}

// newSession handles `zellij` without a subcommand: create (and attach to)
// a new session, named by -s or randomly (Zellij's src/main.rs). With --layout and
// --session (or $ZELLIJ_SESSION_NAME), Zellij 0.41+ adds the layout's tabs
// to that live session instead.
func newSession(top topOpts) int {
	base := cwdOr(nil)
	target := top.session
	if target == "" {
		target = os.Getenv("ZELLIJ_SESSION_NAME")
	}
	live, err := liveSessions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	if top.layout != "" && target != "" && top.newLayout == "" {
		_, spec, c := loadLayout(top.layout, base)
		if c >= 0 {
			return c
		}
		return addTabs(target, spec, live)
	}
	layoutID, spec := "default", defaultLayout(base)
	if lv := top.newLayout; lv != "" || top.layout != "" {
		if lv == "" {
			lv = top.layout
		}
		var c int
		if layoutID, spec, c = loadLayout(lv, base); c >= 0 {
			return c
		}
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprintln(os.Stderr, "failed to open terminal:")
		fmt.Fprintln(os.Stderr, "ENOTTY: Not a typewriter")
		return 1
	}
	name := top.session
	if name == "" {
		name = randomName(live)
	}
	if isLive(live, name) {
		fmt.Printf("Session with name %q already exists. Use attach command to connect to it or specify a different name.\n", name)
		return 1
	}
	if isDead(name) {
		fmt.Printf("Session with name %q already exists, but is dead. Use the attach command to resurrect it or, the delete-session command to kill it or specify a different name.\n", name)
		return 1
	}
	if c := checkNewName(name); c >= 0 {
		return c
	}
	if c := createSession(name, layoutID, spec, map[string]string{}, false); c >= 0 {
		return c
	}
	return attachClient(name)
}

// addTabs appends the layout's tabs to a live session (`action new-tab`).
func addTabs(name string, spec *layoutSpec, live []session) int {
	if !isLive(live, name) {
		if len(live) == 0 {
			fmt.Fprintln(os.Stderr, "There is no active session!")
			return 1
		}
		fmt.Fprintf(os.Stderr, "Session '%s' not found. The following sessions are active:\n", name)
		for _, s := range live {
			fmt.Fprintln(os.Stderr, s.Name)
		}
		return 1
	}
	tn := tmuxName(name)
	out, err := tmuxOutput("list-windows", "-t", "="+tn, "-F", "#{window_index}")
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	next := len(strings.Fields(out))
	var args []string
	for i, t := range spec.Tabs {
		if i > 0 {
			args = append(args, ";")
		}
		args = append(args, "new-window", "-d", "-t", "="+tn+":", "-c", t.Cwd, "-n", t.Name)
		args = append(args, paneEnv(name, next+i)...)
		args = append(args, windowCommand(t, "", false)...)
	}
	if _, err := tmuxOutput(args...); err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 2
	}
	return 0
}
