package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sysvm/sysvm/hint"
)

// LayoutFile is the project's own Zellij layout, relative to its directory.
const LayoutFile = ".sysvm/layout.kdl"

// LayoutMax caps the size of a layout file: real layouts are a few KiB.
const LayoutMax = 256 << 10

// LayoutPath returns the project's layout file relative to Dir:
// .sysvm/layout.kdl when it exists, else the file sysvm.yaml's `layout:`
// names, else "" (sysvm's default layout). `layout:` must be a relative
// path that stays inside the project.
func (p *Project) LayoutPath() (string, error) {
	if _, err := os.Lstat(filepath.Join(p.Dir, LayoutFile)); err == nil {
		return LayoutFile, nil
	}
	name := p.File.Layout
	if name == "" {
		return "", nil
	}
	fix := "fix `layout:` in " + filepath.Join(p.Dir, FileName) + " (a path inside the project, e.g. .sysvm/dev.kdl)"
	if filepath.IsAbs(name) {
		return "", hint.Wrap(fmt.Errorf("the layout %q named in sysvm.yaml is an absolute path; sysvm uses only a layout inside the project", name), fix)
	}
	rel := filepath.Clean(name)
	if rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", hint.Wrap(fmt.Errorf("the layout %q named in sysvm.yaml is outside the project", name), fix)
	}
	return rel, nil
}

// ReadLayout returns the project's layout file (see LayoutPath) and its
// path relative to Dir; nil and "" when the project uses sysvm's default.
// It reads only a regular file of at most LayoutMax bytes inside the
// project, reached without following a symbolic link: a committed layout
// must not pull in /proc/self/environ, a device or a file elsewhere.
func (p *Project) ReadLayout() ([]byte, string, error) {
	rel, err := p.LayoutPath()
	if err != nil || rel == "" {
		return nil, "", err
	}
	path := filepath.Join(p.Dir, rel)
	fail := func(why string) error {
		return hint.Wrap(fmt.Errorf("the layout %s %s; sysvm reads only a regular file inside the project, at most %d KiB", path, why, LayoutMax>>10),
			"put the layout itself (not a link) at "+filepath.Join(p.Dir, rel))
	}
	// Every directory on the way must be a real one, not a link out.
	for d := filepath.Dir(rel); d != "." && d != string(filepath.Separator); d = filepath.Dir(d) {
		if st, err := os.Lstat(filepath.Join(p.Dir, d)); err == nil && st.Mode()&os.ModeSymlink != 0 {
			return nil, rel, fail("is reached through the symbolic link " + filepath.Join(p.Dir, d))
		}
	}
	b, err := readRegular(path, LayoutMax, syscall.O_NOFOLLOW)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, rel, fail("is a symbolic link")
	case errors.Is(err, errNotRegular):
		return nil, rel, fail("is not a regular file")
	case errors.Is(err, errTooBig):
		return nil, rel, fail("is too big")
	case err != nil:
		return nil, rel, hint.Wrap(fmt.Errorf("the layout %s cannot be read: %w", path, err),
			"fix `layout:` in "+filepath.Join(p.Dir, FileName)+", or create the file")
	}
	return b, rel, nil
}
