package state

import (
	"errors"
	"os/user"
	"path/filepath"

	"github.com/sysvm/sysvm/hint"
)

// Home returns the user's home directory: $HOME when it is absolute, else
// the home of the user's passwd entry. It never returns a relative path:
// with neither, it fails.
func Home(getenv func(string) string) (string, error) {
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return h, nil
	}
	if u, err := user.Current(); err == nil && filepath.IsAbs(u.HomeDir) {
		return u.HomeDir, nil
	}
	return "", hint.Wrap(errors.New("cannot find your home directory: HOME is not set and your user has no home in the password database"),
		"set HOME, or set SYSVM_STATE_DIR to an absolute directory for sysvm's state")
}
