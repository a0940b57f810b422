// Package scaffold is `sysvm init`: it writes a project template (package
// templates) into a directory ([Init]), allows the files that steer sysvm
// it wrote, through the caller's Allow, and reports what it did and what
// to run next ([Run]). It never overwrites a user's file and never talks
// to a VM.
package scaffold

import (
	"io"
	"slices"

	"github.com/sysvm/sysvm/templates"
)

// Options say which template Run writes and what it does besides.
type Options struct {
	// Template names the template; see Templates.
	Template string
	// Force appends the lines that load sysvm to an .envrc lacking them.
	Force bool
	// Allow records the files that steer sysvm (sysvm.yaml, the layout)
	// Run wrote in dir, with their contents, as allowed: the user has
	// just created them from sysvm's own template. Nil allows nothing.
	Allow func(dir string, files map[string][]byte) error
	// Report receives what Run did and what to run next; nil says nothing.
	Report io.Writer
}

// Run is `sysvm init`: it writes the template into dir (see Init), allows
// the steering files it wrote and reports.
func Run(dir string, o Options) error {
	res, err := Init(dir, o.Template, o.Force)
	if err != nil {
		return err
	}
	if o.Allow != nil {
		steering, err := steering(o.Template, res)
		if err != nil {
			return err
		}
		if err := o.Allow(dir, steering); err != nil {
			return err
		}
	}
	if o.Report != nil {
		report(o.Report, dir, o.Template, res)
	}
	return nil
}

// Templates names the project templates, the default first.
func Templates() []string { return slices.Clone(templates.ProjectTemplates) }
