package scaffold

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
	"slices"
	"strings"
	"syscall"

	"github.com/sysvm/sysvm/files"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/templates"
)

// EnvrcLoader is what `sysvm init --force` appends to an .envrc that does not
// use sysvm yet: the same lines the templates' .envrc files carry.
const EnvrcLoader = `declare -F use_sysvm >/dev/null || eval "$(sysvm direnvrc)"
use sysvm
`

// Result is what `sysvm init` did with one template file.
type Result struct {
	// Path is relative to the project directory, slash-separated.
	Path string
	// Action is one of Wrote, Unchanged, Added, Kept and Skipped.
	Action string
	// Detail says more: the lines added, or why a file was left alone.
	Detail string
}

// Actions reported by Init.
const (
	Wrote     = "wrote"     // the file did not exist; it now holds the template
	Unchanged = "unchanged" // the file already held the template
	Added     = "added"     // lines were appended to an existing file
	Kept      = "kept"      // the file exists and differs; it was left alone
	Skipped   = "skipped"   // the file needs a change sysvm made only with --force
)

// UnknownError names a template that does not exist.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown template %q (known: %s)", e.Name, strings.Join(templates.ProjectTemplates, ", "))
}

// Init writes the files of the named template into dir, creating dir
// when it does not exist. It never overwrites a file: a new file appears
// whole or not at all (it is written aside and hard-linked into place), and
// appends to .gitignore and (with force) .envrc happen under an exclusive
// lock on that file, so two runs racing in one directory leave every file
// complete and no line twice.
func Init(dir, tmpl string, force bool) ([]Result, error) {
	if !knownTemplate(tmpl) {
		return nil, hint.Usage(&UnknownError{Name: tmpl})
	}
	fsys, err := fs.Sub(templates.Projects, tmpl)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the project directory: %w", err)
	}
	var res []Result
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
		res = append(res, Result{Path: name, Action: action, Detail: detail})
		return nil
	})
	return res, err
}

func knownTemplate(name string) bool {
	return slices.Contains(templates.ProjectTemplates, name)
}

// initFile puts one template file in place and says what it did.
func initFile(target string, want []byte, force bool) (action, detail string, err error) {
	created, err := files.CreateNew(target, want, 0o644)
	if err != nil || created {
		return Wrote, "", err
	}
	base := path.Base(filepath.ToSlash(target))
	switch base {
	case ".gitignore":
		added, err := appendLocked(target, func(have []byte) []byte { return missingLines(have, want) })
		if err != nil {
			return "", "", err
		}
		if len(added) == 0 {
			return Unchanged, "", nil
		}
		var pats []string
		for _, l := range lines(added) {
			if !strings.HasPrefix(l, "#") {
				pats = append(pats, l)
			}
		}
		return Added, strings.Join(pats, " "), nil
	case ".envrc":
		if project.EnvrcUsesSysvm(target) {
			if same, _ := sameContent(target, want); same {
				return Unchanged, "", nil
			}
			return Kept, "it already says `use sysvm`", nil
		}
		if !force {
			return Skipped, "it does not say `use sysvm`; see below", nil
		}
		added, err := appendLocked(target, func(have []byte) []byte {
			if project.UsesSysvm(have) {
				return nil
			}
			return []byte("\n# sysvm: the project's own VM and Zellij session\n" + EnvrcLoader)
		})
		if err != nil {
			return "", "", err
		}
		if len(added) == 0 {
			return Kept, "it already says `use sysvm`", nil
		}
		return Added, "use sysvm", nil
	}
	same, err := sameContent(target, want)
	if err != nil {
		return "", "", err
	}
	if same {
		return Unchanged, "", nil
	}
	return Kept, "yours differs from the template", nil
}

// appendLocked appends add(current contents) to the file at target while
// holding an exclusive flock on it, so that concurrent appenders each see
// the others' lines. It returns what it appended.
//
// A symbolic link is never followed: a committed .gitignore or .envrc
// linking out of the project must not make init write elsewhere.
func appendLocked(target string, add func(have []byte) []byte) ([]byte, error) {
	f, err := os.OpenFile(target, os.O_RDWR|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		to, _ := os.Readlink(target)
		return nil, hint.Wrap(fmt.Errorf("refusing to append to %s: it is a symbolic link (to %s), and sysvm init writes only the project's own files", target, to),
			"add the lines to the file yourself, or replace the link with a file")
	} else if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("refusing to append to %s: it is not a regular file", target)
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

func sameContent(target string, want []byte) (bool, error) {
	have, err := os.ReadFile(target)
	if err != nil {
		return false, err
	}
	return bytes.Equal(have, want), nil
}
