package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

// readLayout returns the project's layout file (see LayoutPath) and its
// path relative to Dir; nil and "" when the project uses sysvm's default.
// It reads only the user's own regular file of at most LayoutMax bytes
// inside the project, reached without following a symbolic link: a
// committed layout must not pull in /proc/self/environ, a device or a file
// elsewhere. Loading a project reads it once, into Snap.
func (p *Project) readLayout(t trust) ([]byte, string, error) {
	rel, err := p.LayoutPath()
	if err != nil || rel == "" {
		return nil, "", err
	}
	path := filepath.Join(p.Dir, rel)
	b, err := t.readOwn(p.Dir, rel, LayoutMax)
	var fe *FileError
	switch {
	case errors.As(err, &fe):
		return nil, rel, hint.Wrap(fmt.Errorf("the layout %s %s; sysvm reads only your own regular file inside the project, at most %d KiB", path, fe.Why, LayoutMax>>10),
			"put the layout itself (not a link) at "+path)
	case err != nil:
		return nil, rel, hint.Wrap(fmt.Errorf("the layout %s cannot be read: %w", path, err),
			"fix `layout:` in "+filepath.Join(p.Dir, FileName)+", or create the file")
	}
	return b, rel, nil
}
