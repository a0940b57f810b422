package project

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sysvm/sysvm/hint"
)

// Lookup resolves a command's project argument: "" means the project of
// the current directory; a path (anything with a slash, "." or "..") means
// that directory's project; otherwise a project or VM name that known maps
// to its directory (sysvm's registry), else a directory of that name.
func Lookup(arg string, opt Options, known func(name string) (dir string, ok bool)) (*Project, error) {
	dir := arg
	switch {
	case arg == "":
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("finding the current directory: %w", err)
		}
		dir = wd
	case strings.ContainsRune(arg, os.PathSeparator) || arg == "." || arg == "..":
	default:
		if d, ok := known(arg); ok {
			dir = d
		} else if st, err := os.Stat(arg); err != nil || !st.IsDir() {
			return nil, hint.Wrap(fmt.Errorf("no project named %q", arg),
				"sysvm list  (the projects sysvm knows)", "or pass the project's directory, e.g. ./"+arg)
		}
	}
	p, err := Resolve(dir, opt)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return nil, hint.Wrap(err, "check the path, or cd into the project and run the command without it")
	}
	return p, err
}
