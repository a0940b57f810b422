// Package project finds the project a directory belongs to and derives its
// names: the slug, the Lima VM name and the Zellij session name. It reads
// the project's files (sysvm.yaml, .lima/config.yaml, the layout) once, as
// the user's own regular files below directories only the user or root can
// change, into a Snapshot that everything after uses. Discovery never looks
// above $HOME or into directories others can write. It never writes into a
// project and never follows a symbolic link to a project file.
package project

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/sysvm/sysvm/hint"
)

// FileName is the project's own, optional config file.
const FileName = "sysvm.yaml"

// LimaConfigPath is where sysvm writes the project's Lima config, relative to
// the project directory.
const LimaConfigPath = ".lima/config.yaml"

// Project is one directory with its own VM and Zellij session.
type Project struct {
	// Dir is the absolute, symlink-resolved project directory.
	Dir string
	// Slug names the project; it is also the Zellij session name.
	Slug string
	// VM is the Lima instance name: the slug plus "-dev".
	VM string
	// File is the parsed sysvm.yaml, or a zero File when there is none.
	File File
	// HasFile reports whether sysvm.yaml exists.
	HasFile bool
	// Snap is the project's files as read once when it was loaded.
	Snap Snapshot
	// Notes are one-line remarks about discovery (markers that were
	// ignored) for the CLI to print once.
	Notes []string
}

// Session returns the Zellij session name.
func (p *Project) Session() string { return p.Slug }

// LimaConfig returns the absolute path of the project's Lima config.
func (p *Project) LimaConfig() string { return filepath.Join(p.Dir, LimaConfigPath) }

// NotFoundError reports a directory that does not exist.
type NotFoundError struct{ Dir string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("directory %q does not exist", e.Dir) }

// Options steer how a project is resolved.
type Options struct {
	// Name overrides the derived slug (the --name flag).
	Name string
	// LimaHome is the resolved LIMA_HOME, needed for the socket-length budget.
	LimaHome string
	// Home is the user's home directory, where discovery of a project
	// inside it stops; "" means no limit (see the rule in trust.go).
	Home string
	// Owner, when set, says which directory VM vm belongs to: dir itself
	// when it is dir's, another directory when it is that one's, "" when
	// it is nobody's (sysvm fills it from its registry and Lima's
	// instances). With it, a derived name whose VM is another
	// directory's gets the path hash, and a chosen name whose VM is
	// another directory's is refused.
	Owner func(vm, dir string) string
}

// UntrustedError reports a project directory, or a directory above one
// (Above names the project then), that another user can change.
type UntrustedError struct {
	Path  string
	Why   string
	Above string
}

func (e *UntrustedError) Error() string {
	if e.Above != "" && e.Above != e.Path {
		return fmt.Sprintf("%s %s, and the project %s is below it: another user could swap the project's files for their own", e.Path, e.Why, e.Above)
	}
	return fmt.Sprintf("%s %s, so it cannot be a project: another user could choose what sysvm runs", e.Path, e.Why)
}

// Hints says what to do instead.
func (e *UntrustedError) Hints() []string {
	return []string{"use a directory you own that only you can write, e.g. mkdir -p ~/projects/NAME"}
}

// Resolve returns the project for dir: the nearest trusted directory upward
// that holds a trusted sysvm.yaml, .lima/config.yaml or an .envrc saying
// `use sysvm`, or dir itself when none does. The walk stops at the first
// directory the user does not own or others can write, and at opt.Home
// when dir is inside it; markers owned by another user are ignored and
// noted in Project.Notes. dir itself must be trusted, and a marker in it
// that is not is an error when no project above takes over.
func Resolve(dir string, opt Options) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %q: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &NotFoundError{Dir: abs}
	} else if err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%q is not a directory", abs)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	t := userTrust(opt.Home)
	if why := t.untrusted(abs); why != "" {
		return nil, &UntrustedError{Path: abs, Why: why}
	}
	root, notes := t.findRoot(abs)
	if root == "" {
		root = abs
		if _, ignored := t.isRoot(abs); len(ignored) > 0 {
			return nil, hint.Wrap(fmt.Errorf("%s holds project files sysvm must not use: %s", abs, ignored[0]),
				"remove the file, or use a directory of your own")
		}
	}
	p, err := Load(root, opt)
	if err != nil {
		return nil, err
	}
	p.Notes = notes
	return p, nil
}

// Load builds the project rooted exactly at dir (absolute, links
// resolved): it checks that only the user (or root) can change dir and
// every directory above it, then reads the project's files once (see
// Snapshot).
func Load(dir string, opt Options) (*Project, error) {
	t := userTrust(opt.Home)
	if err := t.checkChain(dir); err != nil {
		return nil, err
	}
	snap, f, ok, err := t.snapshot(dir)
	if err != nil {
		return nil, err
	}
	p := &Project{Dir: dir, File: f, HasFile: ok, Snap: snap}
	switch name := cmp.Or(opt.Name, f.Name); {
	case name != "":
		if err := ValidateName(name, opt.LimaHome); err != nil {
			return nil, err
		}
		from := "--name"
		if opt.Name == "" {
			from = "name: in " + filepath.Join(dir, FileName)
		}
		if err := checkOwner(name, from, dir, opt.Owner); err != nil {
			return nil, err
		}
		p.Slug = name
	default:
		if p.Slug, err = ownSlug(dir, opt.LimaHome, opt.Owner); err != nil {
			return nil, err
		}
	}
	p.VM = p.Slug + VMSuffix
	return p, nil
}

// useSysvmRE matches a `use sysvm` line in an .envrc.
var useSysvmRE = regexp.MustCompile(`^\s*use\s+sysvm(\s|$)`)

// EnvrcUsesSysvm reports whether the .envrc at path has a `use sysvm` line.
func EnvrcUsesSysvm(path string) bool {
	b, err := ReadSmall(path)
	return err == nil && UsesSysvm(b)
}

// UsesSysvm reports whether the contents of an .envrc have a `use sysvm`
// line.
func UsesSysvm(envrc []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(envrc))
	for sc.Scan() {
		if useSysvmRE.MatchString(sc.Text()) {
			return true
		}
	}
	return false
}
