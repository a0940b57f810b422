package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/shellhook"
	"github.com/sysvm/sysvm/templates"
)

// envrcLoader is what `sysvm init --force` appends to an .envrc that does not
// use sysvm yet: the same lines the templates' .envrc files carry.
const envrcLoader = `declare -F use_sysvm >/dev/null || eval "$(sysvm direnvrc)"
use sysvm
`

// InitResult is what `sysvm init` did with one template file.
type InitResult struct {
	// Path is relative to the project directory, slash-separated.
	Path string
	// Action is one of the Init* constants.
	Action string
	// Detail says more: the lines added, or why a file was left alone.
	Detail string
}

// Actions reported by InitProject.
const (
	InitWrote     = "wrote"     // the file did not exist; it now holds the template
	InitUnchanged = "unchanged" // the file already held the template
	InitAdded     = "added"     // lines were appended to an existing file
	InitKept      = "kept"      // the file exists and differs; it was left alone
	InitSkipped   = "skipped"   // the file needs a change sysvm made only with --force
)

func (a *App) cmdInit() *cobra.Command {
	var tmpl string
	var force bool
	cmd := &cobra.Command{
		Use:   "init [dir]",
		Short: "Write a project template (.envrc, shell.nix, ...) into a directory",
		Long: `Write the files of a project template into dir (default: the current
directory), the same files ` + "`nix flake init -t github:sysvm/sysvm#TEMPLATE`" + ` writes:

  vm-dev      flake.nix, shell.nix, .envrc, .gitignore, Taskfile.yml (default)
  vm-minimal  shell.nix, .envrc, .gitignore
  vm-custom   vm-dev's files plus a commented sysvm.yaml and README.sysvm.md

Nothing is ever overwritten. A file that exists is kept as it is, except:
missing lines are added to .gitignore, and with --force the lines that load
` + "`use sysvm`" + ` are added to an .envrc that lacks them.`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			res, err := InitProject(dir, tmpl, force)
			if err != nil {
				return err
			}
			if !a.Quiet {
				a.printInit(dir, tmpl, res)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&tmpl, "template", "t", templates.ProjectTemplates[0],
		"the template: "+strings.Join(templates.ProjectTemplates, ", "))
	cmd.Flags().BoolVar(&force, "force", false, "append the lines that load and say \"use sysvm\" to an existing .envrc (nothing is ever overwritten)")
	return cmd
}

func (a *App) printInit(dir, tmpl string, res []InitResult) {
	w := a.Out
	where := dir
	if abs, err := filepath.Abs(dir); err == nil {
		where = abs
	}
	fmt.Fprintf(w, "sysvm init: template %s in %s\n", tmpl, where)
	var envrcSkipped, flake bool
	for _, r := range res {
		line := fmt.Sprintf("  %-9s %s", r.Action, r.Path)
		if r.Detail != "" {
			line += " (" + r.Detail + ")"
		}
		fmt.Fprintln(w, line)
		envrcSkipped = envrcSkipped || (r.Path == ".envrc" && r.Action == InitSkipped)
		flake = flake || (r.Path == "flake.nix" && r.Action == InitWrote)
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
		for _, l := range strings.Split(strings.TrimSuffix(envrcLoader, "\n"), "\n") {
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

// InitProject writes the files of the named template into dir, creating dir
// when it does not exist. It never overwrites a file: a new file appears
// whole or not at all (it is written aside and hard-linked into place), and
// appends to .gitignore and (with force) .envrc happen under an exclusive
// lock on that file, so two runs racing in one directory leave every file
// complete and no line twice.
func InitProject(dir, tmpl string, force bool) ([]InitResult, error) {
	if !knownTemplate(tmpl) {
		return nil, usageError{fmt.Errorf("unknown template %q (known: %s)", tmpl, strings.Join(templates.ProjectTemplates, ", "))}
	}
	fsys, err := fs.Sub(templates.Projects, tmpl)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the project directory: %w", err)
	}
	var res []InitResult
	err = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		action, detail, err := initFile(target, want, force)
		if err != nil {
			return fmt.Errorf("writing %s: %w", target, err)
		}
		res = append(res, InitResult{Path: name, Action: action, Detail: detail})
		return nil
	})
	return res, err
}

// shellWord quotes s for a shell only when it needs quoting.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+:@%") == "" {
		return s
	}
	return shellhook.QuotePOSIX(s)
}

func knownTemplate(name string) bool {
	for _, t := range templates.ProjectTemplates {
		if t == name {
			return true
		}
	}
	return false
}

// initFile puts one template file in place and says what it did.
func initFile(target string, want []byte, force bool) (action, detail string, err error) {
	created, err := createExclusive(target, want)
	if err != nil || created {
		return InitWrote, "", err
	}
	base := path.Base(filepath.ToSlash(target))
	switch base {
	case ".gitignore":
		added, err := appendLocked(target, func(have []byte) []byte { return missingLines(have, want) })
		if err != nil {
			return "", "", err
		}
		if len(added) == 0 {
			return InitUnchanged, "", nil
		}
		var pats []string
		for _, l := range lines(added) {
			if !strings.HasPrefix(l, "#") {
				pats = append(pats, l)
			}
		}
		return InitAdded, strings.Join(pats, " "), nil
	case ".envrc":
		if project.EnvrcUsesSysvm(target) {
			if same, _ := sameContent(target, want); same {
				return InitUnchanged, "", nil
			}
			return InitKept, "it already says `use sysvm`", nil
		}
		if !force {
			return InitSkipped, "it does not say `use sysvm`; see below", nil
		}
		added, err := appendLocked(target, func(have []byte) []byte {
			if envrcUsesSysvm(have) {
				return nil
			}
			return []byte("\n# sysvm: the project's own VM and Zellij session\n" + envrcLoader)
		})
		if err != nil {
			return "", "", err
		}
		if len(added) == 0 {
			return InitKept, "it already says `use sysvm`", nil
		}
		return InitAdded, "use sysvm", nil
	}
	same, err := sameContent(target, want)
	if err != nil {
		return "", "", err
	}
	if same {
		return InitUnchanged, "", nil
	}
	return InitKept, "yours differs from the template", nil
}

// createExclusive creates path holding data unless path exists, reporting
// whether it did. The data is written to a temporary file beside path and
// hard-linked to path, which fails when path exists: no reader ever sees a
// partial file and nothing is replaced. Where hard links are not supported
// it falls back to O_EXCL, which still never replaces a file.
func createExclusive(target string, data []byte) (bool, error) {
	if _, err := os.Lstat(target); err == nil {
		return false, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".sysvm-init-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	err = os.Link(tmp.Name(), target)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	// No hard links here (some FUSE and network file systems).
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return true, err
	}
	return true, f.Close()
}

// appendLocked appends add(current contents) to the file at target while
// holding an exclusive flock on it, so that concurrent appenders each see
// the others' lines. It returns what it appended.
func appendLocked(target string, add func(have []byte) []byte) ([]byte, error) {
	f, err := os.OpenFile(target, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("locking: %w", err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	have, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	if err != nil {
		return nil, err
	}
	extra := add(have)
	if len(extra) == 0 {
		return nil, nil
	}
	out := extra
	if len(have) > 0 && have[len(have)-1] != '\n' {
		out = append([]byte("\n"), extra...)
	}
	if _, err := f.Write(out); err != nil {
		return nil, err
	}
	return extra, f.Sync()
}

// missingLines returns the pattern lines of want that have lacks, with a
// comment header, ready to append; nil when none are missing. Patterns
// compare without a leading or trailing slash: `.direnv` covers `.direnv/`.
func missingLines(have, want []byte) []byte {
	norm := func(s string) string { return strings.Trim(strings.TrimSpace(s), "/") }
	seen := map[string]bool{}
	for _, l := range lines(have) {
		seen[norm(l)] = true
	}
	var add []string
	for _, l := range lines(want) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || seen[norm(l)] {
			continue
		}
		seen[norm(l)] = true
		add = append(add, l)
	}
	if len(add) == 0 {
		return nil
	}
	return []byte("# sysvm\n" + strings.Join(add, "\n") + "\n")
}

func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// envrcUsesSysvm is project.EnvrcUsesSysvm on contents already read.
func envrcUsesSysvm(b []byte) bool {
	for _, l := range lines(b) {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "use" && f[1] == "sysvm" {
			return true
		}
	}
	return false
}

func sameContent(target string, want []byte) (bool, error) {
	have, err := os.ReadFile(target)
	if err != nil {
		return false, err
	}
	return bytes.Equal(have, want), nil
}
