package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// stateDir returns $ZELLIJ_STANDIN_DIR, default
// ${XDG_RUNTIME_DIR:-/tmp}/zellij-standin-<uid>.
func stateDir() string {
	if d := os.Getenv("ZELLIJ_STANDIN_DIR"); d != "" {
		return d
	}
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = "/tmp"
	}
	return filepath.Join(base, fmt.Sprintf("zellij-standin-%d", os.Getuid()))
}

func tmuxSocket() string { return filepath.Join(stateDir(), "tmux.sock") }

func cacheDir(name string) string   { return filepath.Join(stateDir(), "cache", name) }
func sessionDir(name string) string { return filepath.Join(stateDir(), "sessions", name) }

// cachedLayoutPath is the resurrection layout of a session.
func cachedLayoutPath(name string) string {
	return filepath.Join(cacheDir(name), "session-layout.kdl")
}

// tmuxName encodes a session name for tmux, which rewrites '.' and ':' and
// escapes unprintable bytes: every byte outside [A-Za-z0-9_-] becomes %XX
// (so encoded names never contain the "|" used as a format separator).
func tmuxName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sessionName decodes tmuxName.
func sessionName(t string) string {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] == '%' && i+2 < len(t) {
			if v, err := strconv.ParseUint(t[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(t[i])
	}
	return b.String()
}

// tmuxEnv is the environment for tmux client commands: TMUX is removed so
// that commands run from inside a pane talk to our server, not "nested".
// TERM is xterm-256color: Zellij draws without terminfo, so a client TERM
// the guest has no entry for must not stop the stand-in's tmux client
// (panes still get the client's own TERM, see paneEnv).
func tmuxEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TMUX=") || strings.HasPrefix(kv, "TMUX_PANE=") || strings.HasPrefix(kv, "TERM=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "TERM=xterm-256color")
}

// tmux returns a command talking to the stand-in's private tmux server.
func tmux(args ...string) *exec.Cmd {
	cmd := exec.Command("tmux", append([]string{"-S", tmuxSocket(), "-f", "/dev/null"}, args...)...)
	cmd.Env = tmuxEnv()
	return cmd
}

// tmuxOutput runs a tmux command and returns stdout; the error includes
// tmux's stderr. A server that is just exiting (its last session ended) is
// retried: tmux then starts a fresh one or reports "no server".
func tmuxOutput(args ...string) (string, error) {
	for attempt := 0; ; attempt++ {
		cmd := tmux(args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil {
			return string(out), nil
		}
		msg := strings.TrimSpace(stderr.String())
		if attempt < 20 && (strings.Contains(msg, "server exited unexpectedly") || strings.Contains(msg, "lost server")) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		return string(out), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, msg)
	}
}

// session is one live or dead session as `ls` shows it.
type session struct {
	Name    string
	Created time.Time
	Dead    bool
	order   int
}

// noServer reports whether a tmux error means "no server is running".
func noServer(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no server running") || strings.Contains(s, "error connecting to")
}

// liveSessions lists the live sessions.
func liveSessions() ([]session, error) {
	if _, err := os.Stat(tmuxSocket()); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	// "|" never occurs in an encoded name; a tab would not do: without a
	// UTF-8 locale (typical in an SSH session) tmux prints control
	// characters in formats as "_".
	out, err := tmuxOutput("list-sessions", "-F", "#{session_name}|#{session_created}|#{session_id}")
	if err != nil {
		if noServer(err) {
			return nil, nil
		}
		return nil, err
	}
	var list []session
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			continue
		}
		if strings.HasPrefix(f[0], orphanPrefix) {
			continue
		}
		created, _ := strconv.ParseInt(f[1], 10, 64)
		id, _ := strconv.Atoi(strings.TrimPrefix(f[2], "$"))
		s := session{Name: sessionName(f[0]), Created: time.Unix(created, 0), order: id}
		// Prefer the precise creation time the stand-in recorded.
		if b, err := os.ReadFile(filepath.Join(sessionDir(s.Name), "created")); err == nil {
			if ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
				s.Created = time.Unix(0, ns)
			}
		}
		list = append(list, s)
	}
	return list, nil
}

// deadSessions lists resurrectable sessions that are not live.
func deadSessions(live []session) []session {
	isLive := map[string]bool{}
	for _, s := range live {
		isLive[s.Name] = true
	}
	entries, err := os.ReadDir(filepath.Join(stateDir(), "cache"))
	if err != nil {
		return nil
	}
	var list []session
	for _, e := range entries {
		if !e.IsDir() || isLive[e.Name()] {
			continue
		}
		st, err := os.Stat(cachedLayoutPath(e.Name()))
		if err != nil {
			continue
		}
		list = append(list, session{Name: e.Name(), Created: st.ModTime(), Dead: true})
	}
	return list
}

func isLive(live []session, name string) bool {
	for _, s := range live {
		if s.Name == name {
			return true
		}
	}
	return false
}

func isDead(name string) bool {
	_, err := os.Stat(cachedLayoutPath(name))
	return err == nil
}

// sessionAlive asks tmux whether the session exists right now.
func sessionAlive(name string) bool {
	return tmux("has-session", "-t", "="+tmuxName(name)).Run() == nil
}

// sortSessions orders oldest first (0.40+ default).
func sortSessions(list []session) {
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].Created.Equal(list[j].Created) {
			return list[i].Created.Before(list[j].Created)
		}
		if list[i].Dead != list[j].Dead {
			return list[i].Dead
		}
		return list[i].order < list[j].order
	})
}

// humanDuration mirrors humantime 2.1 format_duration for whole seconds.
func humanDuration(d time.Duration) string {
	secs := int64(d / time.Second)
	if secs <= 0 {
		return "0s"
	}
	years := secs / 31_557_600
	ydays := secs % 31_557_600
	months := ydays / 2_630_016
	mdays := ydays % 2_630_016
	days := mdays / 86400
	daySecs := mdays % 86400
	hours := daySecs / 3600
	minutes := daySecs % 3600 / 60
	seconds := daySecs % 60
	var parts []string
	plural := func(n int64, unit string) {
		if n == 0 {
			return
		}
		s := fmt.Sprintf("%d%s", n, unit)
		if n > 1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	plural(years, "year")
	plural(months, "month")
	plural(days, "day")
	for _, u := range []struct {
		n    int64
		unit string
	}{{hours, "h"}, {minutes, "m"}, {seconds, "s"}} {
		if u.n != 0 {
			parts = append(parts, fmt.Sprintf("%d%s", u.n, u.unit))
		}
	}
	return strings.Join(parts, " ")
}

// formatSession renders one `ls` line (without the newline).
func formatSession(s session, now time.Time, plain bool) string {
	suffix := ""
	if cur := os.Getenv("ZELLIJ_SESSION_NAME"); cur != "" && cur == s.Name {
		suffix = "(current)"
	} else if s.Dead {
		if plain {
			suffix = "(EXITED - attach to resurrect)"
		} else {
			suffix = "(\x1b[31;1mEXITED\x1b[m - attach to resurrect)"
		}
	}
	age := humanDuration(now.Sub(s.Created))
	if plain {
		return fmt.Sprintf("%s [Created %s ago] %s", s.Name, age, suffix)
	}
	return fmt.Sprintf("\x1b[32;1m%s\x1b[m [Created \x1b[35;1m%s\x1b[m ago] %s", s.Name, age, suffix)
}
