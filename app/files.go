package app

import (
	"strings"

	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/display"
	"github.com/sysvm/sysvm/scaffold"
)

// InitOptions are `sysvm init`'s flags.
type InitOptions struct {
	// Template is the template's name (see [Templates]).
	Template string
	// Force adds the lines that load `use sysvm` to an existing .envrc.
	Force bool
}

// Templates are the names of the project templates, the default first.
func Templates() []string { return scaffold.Templates() }

// Init writes a project template into dir (see package scaffold) and
// allows the files it wrote; its report goes to stdout unless --quiet.
func (a *App) Init(dir string, o InitOptions) error {
	var report strings.Builder
	err := scaffold.Run(dir, scaffold.Options{Template: o.Template, Force: o.Force, Report: &report,
		Allow: func(dir string, files map[string][]byte) error { return allow.Contents(a.stateDir(), dir, files) }})
	if !a.UI.Quiet {
		a.UI.Print(report.String())
	}
	return err
}

// Allow allows the project's sysvm.yaml, edited Lima config and layout as
// they are now, and says what they reach beyond the project.
func (a *App) Allow(arg string) error {
	p, err := a.open(arg)
	if err != nil {
		return err
	}
	files, err := allow.Allow(a.stateDir(), p)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		a.UI.Say("nothing to allow in %s: no sysvm.yaml, no edited Lima config, no layout", p.Dir)
		return nil
	}
	var names []string
	for _, f := range files {
		names = append(names, display.Line(f.Rel))
	}
	a.UI.Say("allowed %s in %s", strings.Join(names, ", "), p.Dir)
	for _, r := range allow.Reach(p, files) {
		a.UI.Say("  %s", r)
	}
	return nil
}
