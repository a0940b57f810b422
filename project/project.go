// Package project finds the project a directory belongs to and derives its
// names: the slug, the Lima VM name and the Zellij session name. It also
// reads the project's optional, committed sysvm.yaml.
package project

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
}

// Resolve returns the project for dir: the nearest directory upward that
// holds sysvm.yaml, .lima/config.yaml or an .envrc saying `use sysvm`, or dir
// itself when none does.
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
	root := FindRoot(abs)
	if root == "" {
		root = abs
	}
	return Load(root, opt)
}

// Load builds the project rooted exactly at dir (absolute).
func Load(dir string, opt Options) (*Project, error) {
	p := &Project{Dir: dir}
	f, ok, err := ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	p.File, p.HasFile = f, ok
	switch name := firstNonEmpty(opt.Name, f.Name); {
	case name != "":
		if err := ValidateName(name, opt.LimaHome); err != nil {
			return nil, err
		}
		p.Slug = name
	default:
		if p.Slug, err = Slug(dir, opt.LimaHome); err != nil {
			return nil, err
		}
	}
	p.VM = p.Slug + VMSuffix
	return p, nil
}

// FindRoot walks up from dir (absolute) and returns the first directory that
// marks a project, or "" when none does.
func FindRoot(dir string) string {
	for d := dir; ; {
		if IsRoot(d) {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// useSysvmRE matches a `use sysvm` line in an .envrc.
var useSysvmRE = regexp.MustCompile(`^\s*use\s+sysvm(\s|$)`)

// IsRoot reports whether dir itself marks a project.
func IsRoot(dir string) bool {
	for _, f := range []string{FileName, LimaConfigPath} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return EnvrcUsesSysvm(filepath.Join(dir, ".envrc"))
}

// EnvrcUsesSysvm reports whether the .envrc at path has a `use sysvm` line.
func EnvrcUsesSysvm(path string) bool {
	b, err := os.ReadFile(path)
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

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
