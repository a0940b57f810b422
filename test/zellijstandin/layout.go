package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// tabSpec is one tab of a session: one tmux window with a single pane.
type tabSpec struct {
	Name    string
	Cwd     string   // absolute
	Focus   bool     // focus=true
	Command []string // nil means the default shell
}

// layoutSpec is the part of a Zellij layout the stand-in honours.
type layoutSpec struct {
	Cwd  string // absolute base cwd
	Tabs []tabSpec
	// NoTabs is set when the layout has no tab nodes (has_tabs,
	// zellij-utils/src/input/layout.rs@v0.45.0:1703).
	NoTabs bool
}

// templateNodes are layout children that describe templates, swap layouts
// or floating panes; they never create a tab or the first pane's command.
var templateNodes = map[string]bool{
	"default_tab_template": true, "tab_template": true, "pane_template": true,
	"new_tab_template": true, "swap_tiled_layout": true, "swap_floating_layout": true,
	"floating_panes": true, "plugin": true,
}

func resolveDir(base, p string) string {
	if p == "" {
		return base
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// layoutFromKDL interprets a parsed layout. base is the directory that
// relative cwds are resolved against (the creating client's cwd).
func layoutFromKDL(nodes []*kdlNode, base string) (*layoutSpec, error) {
	var root *kdlNode
	for _, n := range nodes {
		if n.Name == "layout" {
			root = n
		}
	}
	if root == nil {
		return nil, errors.New(`a layout file must have a root node named "layout"`)
	}
	spec := &layoutSpec{Cwd: base}
	if c := root.child("cwd"); c != nil && len(c.Args) > 0 {
		spec.Cwd = resolveDir(base, c.Args[0])
	}
	for _, n := range root.Children {
		if n.Name != "tab" {
			continue
		}
		t := tabSpec{Name: fmt.Sprintf("Tab #%d", len(spec.Tabs)+1), Cwd: spec.Cwd}
		if v, ok := n.prop("name"); ok {
			t.Name = v
		}
		if v, ok := n.prop("cwd"); ok {
			t.Cwd = resolveDir(spec.Cwd, v)
		}
		if v, ok := n.prop("focus"); ok && v == "true" {
			t.Focus = true
		}
		t.Command, t.Cwd = firstCommand(n.Children, t.Cwd)
		spec.Tabs = append(spec.Tabs, t)
	}
	if len(spec.Tabs) == 0 {
		var body []*kdlNode
		for _, n := range root.Children {
			if n.Name != "cwd" {
				body = append(body, n)
			}
		}
		cmd, cwd := firstCommand(body, spec.Cwd)
		spec.Tabs = []tabSpec{{Name: "Tab #1", Cwd: cwd, Command: cmd}}
		spec.NoTabs = true
	}
	return spec, nil
}

// firstCommand finds the first pane (depth first) with a command property
// and returns its argv and cwd; panes hosting plugins and templates are
// skipped. Without such a pane it returns nil and cwd unchanged.
func firstCommand(nodes []*kdlNode, cwd string) ([]string, string) {
	for _, n := range nodes {
		if templateNodes[n.Name] || n.Name != "pane" {
			continue
		}
		if _, ok := n.prop("plugin"); ok || n.child("plugin") != nil {
			continue
		}
		paneCwd := cwd
		if v, ok := n.prop("cwd"); ok {
			paneCwd = resolveDir(cwd, v)
		}
		if c, ok := n.prop("command"); ok {
			argv := []string{c}
			if a := n.child("args"); a != nil {
				argv = append(argv, a.Args...)
			}
			return argv, paneCwd
		}
		if argv, d := firstCommand(n.Children, paneCwd); argv != nil {
			return argv, d
		}
	}
	return nil, cwd
}

// serialize renders the spec as the "resurrection layout" the stand-in
// keeps in cache/NAME/session-layout.kdl.
func (l *layoutSpec) serialize() string {
	var b strings.Builder
	b.WriteString("layout {\n")
	b.WriteString("    cwd " + kdlQuote(l.Cwd) + "\n")
	for _, t := range l.Tabs {
		b.WriteString("    tab name=" + kdlQuote(t.Name) + " cwd=" + kdlQuote(t.Cwd))
		if t.Focus {
			b.WriteString(" focus=true")
		}
		b.WriteString(" {\n")
		if t.Command == nil {
			b.WriteString("        pane\n")
		} else {
			b.WriteString("        pane command=" + kdlQuote(t.Command[0]))
			if len(t.Command) > 1 {
				b.WriteString(" {\n            args")
				for _, a := range t.Command[1:] {
					b.WriteString(" " + kdlQuote(a))
				}
				b.WriteString("\n        }\n")
			} else {
				b.WriteString("\n")
			}
		}
		b.WriteString("    }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// defaultLayout is what the built-in layouts amount to for the stand-in:
// one tab with the default shell in base.
func defaultLayout(base string) *layoutSpec {
	return &layoutSpec{Cwd: base, Tabs: []tabSpec{{Name: "Tab #1", Cwd: base}}}
}
