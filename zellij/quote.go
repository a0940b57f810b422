// Package zellij is the Zellij CLI contract as sysvm uses it over SSH: the
// one place that builds remote command lines, the attach-or-create command,
// and parsing of `zellij list-sessions --no-formatting`. It never opens a
// connection or runs a process: callers run its command lines over theirs.
package zellij

import (
	"sort"
	"strings"
)

// Quote quotes s as one word for the guest's login shell. It is safe in
// POSIX sh, bash, zsh and fish alike: the word is single-quoted, and the two
// characters whose meaning inside single quotes differs between those shells
// (the quote itself, and the backslash, which fish treats as an escape) are
// written outside the quotes in double quotes, where all of them agree.
// It works on bytes, so a name that is not valid UTF-8 reaches the guest
// as it is. A word is left bare only when every byte is plainly literal
// in every shell: `=` is not (zsh expands a leading `=ls` to a path).
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString(`'"'"'`)
		case '\\':
			b.WriteString(`'"\\"'`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("_@%+:,./-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Command is a remote command: argv run in Dir with Env added.
type Command struct {
	// Dir is changed into first when set.
	Dir string
	// Env is passed inline with env(1): sshd accepts no environment.
	Env map[string]string
	// Argv is the program and its arguments.
	Argv []string
}

// Line renders the command for the guest's login shell, the only way to
// build a remote command line in sysvm:
//
//	cd DIR && export K=V ... && ARGV...
//
// `export K=V` is a builtin in sh, bash and zsh and a function in fish, so
// no extra process runs in a guest where every exec counts. The login shell
// runs ARGV as `ssh host ARGV` would: a builtin stays a builtin, and bash
// and zsh exec the last command of the list without forking.
func (c Command) Line() string {
	var parts []string
	if c.Dir != "" {
		parts = append(parts, "cd", Quote(c.Dir), "&&")
	}
	if len(c.Env) > 0 {
		keys := make([]string, 0, len(c.Env))
		for k := range c.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts = append(parts, "export")
		for _, k := range keys {
			parts = append(parts, Quote(k+"="+c.Env[k]))
		}
		parts = append(parts, "&&")
	}
	for _, a := range c.Argv {
		parts = append(parts, Quote(a))
	}
	return strings.Join(parts, " ")
}
