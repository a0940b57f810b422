package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// printList prints sessions as `ls` does (plain = -n).
func printList(list []session, plain bool) {
	now := time.Now()
	for _, s := range list {
		fmt.Println(formatSession(s, now, plain))
	}
}

func cmdListSessions(args []string) int {
	const usage = "zellij list-sessions [OPTIONS]"
	var plain, short, reverse bool
	for _, a := range args {
		switch a {
		case "-n", "--no-formatting":
			plain = true
		case "-s", "--short":
			short = true
		case "-r", "--reverse":
			reverse = true
		case "-h", "--help":
			fmt.Printf("Usage: %s\n", usage)
			return 0
		default:
			if strings.HasPrefix(a, "-") && len(a) > 2 && a[1] != '-' {
				// Combined short flags such as -ns.
				ok := true
				for _, c := range a[1:] {
					switch c {
					case 'n':
						plain = true
					case 's':
						short = true
					case 'r':
						reverse = true
					default:
						ok = false
					}
				}
				if ok {
					continue
				}
			}
			return clapError(a, usage)
		}
	}
	live, err := liveSessions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	all := append(live, deadSessions(live)...)
	if len(all) == 0 {
		fmt.Fprintln(os.Stderr, "No active zellij sessions found.")
		return 1
	}
	sortSessions(all)
	if reverse {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	if short {
		for _, s := range all {
			fmt.Println(s.Name)
		}
		return 0
	}
	printList(all, plain)
	return 0
}

// positional returns the single positional argument and the flags seen;
// unknown flags yield a clap error code.
func positional(args []string, usage string, flags map[string]string) (string, map[string]bool, int) {
	seen := map[string]bool{}
	name := ""
	for i, a := range args {
		if a == "--" {
			if i+1 < len(args) {
				name = args[i+1]
			}
			break
		}
		if long, ok := flags[a]; ok {
			seen[long] = true
			continue
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			return "", nil, clapError(a, usage)
		}
		if name != "" {
			return "", nil, clapError(a, usage)
		}
		name = a
	}
	return name, seen, -1
}

func cmdKillSession(args []string) int {
	name, _, code := positional(args, "zellij kill-session [TARGET_SESSION]", nil)
	if code >= 0 {
		return code
	}
	if name == "" {
		fmt.Println("Please specify the session name to kill.")
		return 1
	}
	live, err := liveSessions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	if !isLive(live, name) {
		fmt.Printf("No session named %q found.\n", name)
		return 1
	}
	if _, err := tmuxOutput("kill-session", "-t", "="+tmuxName(name)); err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	return 0
}

func cmdDeleteSession(args []string) int {
	name, seen, code := positional(args, "zellij delete-session [OPTIONS] [TARGET_SESSION]",
		map[string]string{"-f": "force", "--force": "force"})
	if code >= 0 {
		return code
	}
	// 0.44.0+ validates the name first (#4583).
	if c := validateName(name); c >= 0 {
		return c
	}
	live, err := liveSessions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	if isLive(live, name) {
		if !seen["force"] {
			fmt.Printf("A session by the name %q exists and is active, use --force to delete it.\n", name)
			return 1
		}
		fmt.Printf("A session by the name %q exists and is active, but will be force killed and deleted.\n", name)
		_, _ = tmuxOutput("kill-session", "-t", "="+tmuxName(name))
	}
	if _, err := os.Stat(cacheDir(name)); err != nil {
		fmt.Fprintf(os.Stderr, "Session: %q not found.\n", name)
		return 2
	}
	_ = os.RemoveAll(cacheDir(name))
	_ = os.RemoveAll(sessionDir(name))
	fmt.Printf("Session: %q successfully deleted.\n", name)
	return 0
}

// confirm implements the dialoguer prompt; without a terminal it panics
// like Zellij's unwrap does (exit 101).
func confirm(warning string) (bool, int) {
	fmt.Println(warning)
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprintln(os.Stderr, "thread 'main' panicked at src/sessions.rs:386:10:")
		fmt.Fprintln(os.Stderr, "called `Result::unwrap()` on an `Err` value: IO(Custom { kind: NotConnected, error: \"not a terminal\" })")
		fmt.Fprintln(os.Stderr, "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace")
		return false, 101
	}
	fmt.Print("Do you want to continue? [y/n] ")
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "y") {
		return true, -1
	}
	fmt.Println("Abort.")
	return false, 1
}

func cmdKillAll(args []string) int {
	_, seen, code := positional(args, "zellij kill-all-sessions [OPTIONS]", map[string]string{"-y": "yes", "--yes": "yes"})
	if code >= 0 {
		return code
	}
	live, err := liveSessions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	if len(live) == 0 {
		fmt.Fprintln(os.Stderr, "No active zellij sessions found.")
		return 1
	}
	if !seen["yes"] {
		if ok, c := confirm("WARNING: this action will kill all sessions."); !ok {
			return c
		}
	}
	for _, s := range live {
		_, _ = tmuxOutput("kill-session", "-t", "="+tmuxName(s.Name))
	}
	return 0
}

func cmdDeleteAll(args []string) int {
	_, seen, code := positional(args, "zellij delete-all-sessions [OPTIONS]",
		map[string]string{"-y": "yes", "--yes": "yes", "-f": "force", "--force": "force"})
	if code >= 0 {
		return code
	}
	if !seen["yes"] {
		if ok, c := confirm("WARNING: this action will delete all resurrectable sessions."); !ok {
			return c
		}
	}
	live, err := liveSessions()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error occurred: %v\n", err)
		return 1
	}
	if seen["force"] {
		for _, s := range live {
			_, _ = tmuxOutput("kill-session", "-t", "="+tmuxName(s.Name))
		}
		live = nil
	}
	dead := deadSessions(live)
	sortSessions(dead)
	for _, s := range dead {
		_ = os.RemoveAll(cacheDir(s.Name))
		_ = os.RemoveAll(sessionDir(s.Name))
		fmt.Printf("Session: %q successfully deleted.\n", s.Name)
	}
	return 0
}
