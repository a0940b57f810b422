package scaffold

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/sysvm/sysvm/display"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/shellhook"
	"github.com/sysvm/sysvm/templates"
)

// report writes what Init did in dir with the template tmpl, the lines to
// add by hand when .envrc was left alone, and what to run next.
func report(w io.Writer, dir, tmpl string, res []Result) {
	where := dir
	if abs, err := filepath.Abs(dir); err == nil {
		where = abs
	}
	fmt.Fprintf(w, "sysvm init: template %s in %s\n", tmpl, display.Safe(where))
	var envrcSkipped, flake bool
	for _, r := range res {
		line := fmt.Sprintf("  %-9s %s", r.Action, r.Path)
		if r.Detail != "" {
			line += " (" + r.Detail + ")"
		}
		fmt.Fprintln(w, line)
		envrcSkipped = envrcSkipped || (r.Path == ".envrc" && r.Action == Skipped)
		flake = flake || (r.Path == "flake.nix" && r.Action == Wrote)
	}
	if envrcSkipped {
		again := "sysvm init --force"
		if tmpl != templates.ProjectTemplates[0] {
			again += " --template " + tmpl
		}
		if dir != "." {
			again += " " + shellWord(dir)
		}
		fmt.Fprintf(w, "\nYour .envrc does not say `use sysvm`. Add these lines to it, or run\n`%s` to have them appended:\n\n", again)
		for _, l := range strings.Split(strings.TrimSuffix(EnvrcLoader, "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "\nNext:\n")
	if dir != "." {
		fmt.Fprintf(w, "  cd %s\n", shellWord(dir))
	}
	if flake {
		fmt.Fprintf(w, "  git add -A          # a flake sees only the files git tracks\n")
	}
	fmt.Fprintf(w, "  direnv allow        # loads .envrc: `use sysvm`\n")
	fmt.Fprintf(w, "  sysvm attach        # enter the VM; or add `eval \"$(sysvm hook bash)\"` to ~/.bashrc\n")
	fmt.Fprintf(w, "                      # after direnv's hook, and cd into the project enters it\n")
}

// shellWord quotes s for a shell only when it needs quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+:@%") == "" {
		return s
	}
	return display.Safe(shellhook.QuotePOSIX(s))
}

// steering returns the files Init wrote (or found already as the
// template has them) that steer sysvm, sysvm.yaml and the layout, with the
// template's contents: `sysvm init` allows them, since the user has just
// created them from sysvm's own template.
func steering(tmpl string, res []Result) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, r := range res {
		steers := r.Path == project.FileName || r.Path == project.LayoutFile
		if steers && (r.Action == Wrote || r.Action == Unchanged) {
			b, err := fs.ReadFile(templates.Projects, path.Join(tmpl, r.Path))
			if err != nil {
				return nil, err
			}
			files[r.Path] = b
		}
	}
	return files, nil
}
