// Package shellhook renders the prompt hooks that enter a project's VM when
// the shell arrives in the project, and the direnv library (`use sysvm`)
// that tells the hook which project the shell is in.
//
// The split follows direnv's own design: direnv runs .envrc in a child whose
// stdout it captures and exports only variables, so nothing interactive can
// run there. `use sysvm` exports SYSVM_PROJECT_DIR; the hook, which runs in
// the interactive shell itself after direnv's, compares it with the project
// it entered last and runs `sysvm attach` once per entry. A prompt where
// nothing changed runs only a string comparison: no process is spawned.
package shellhook

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"text/template"
)

// Shell is one supported shell.
type Shell struct {
	// Name is bash, zsh or fish.
	Name string
	// Quote quotes a string as one word for this shell.
	Quote func(string) string
	tmpl  string
}

var shells = map[string]Shell{
	"bash": {Name: "bash", Quote: QuotePOSIX, tmpl: bashHook},
	"zsh":  {Name: "zsh", Quote: QuotePOSIX, tmpl: zshHook},
	"fish": {Name: "fish", Quote: QuoteFish, tmpl: fishHook},
}

// Names lists the supported shells.
func Names() []string {
	var n []string
	for k := range shells {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Lookup finds a shell by name; a leading '-' (login shells) and a
// directory are stripped, so $0 works.
func Lookup(name string) (Shell, error) {
	name = strings.TrimPrefix(name[strings.LastIndexByte(name, '/')+1:], "-")
	s, ok := shells[name]
	if !ok {
		return Shell{}, fmt.Errorf("unsupported shell %q (supported: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// Hook renders the hook for this shell; self is the sysvm executable.
func (s Shell) Hook(self string) (string, error) {
	t, err := template.New(s.Name).Funcs(template.FuncMap{"quote": s.Quote}).Parse(s.tmpl)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct{ Self string }{self}); err != nil {
		return "", err
	}
	return b.String(), nil
}

// QuotePOSIX single-quotes s for sh, bash and zsh.
func QuotePOSIX(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteFish single-quotes s for fish, where \ and ' are escapes inside
// single quotes.
func QuoteFish(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}
