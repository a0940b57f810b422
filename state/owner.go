package state

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/sysvm/sysvm/hint"
)

// Check makes sure the state directory is the user's alone before anything
// is read from it or written to it: what it holds (what the user allowed,
// the pinned host keys, the Zellij digests) decides what sysvm trusts, so
// another user who could write there could forge it. The directory must
// be the user's own and writable by no one else; the directory it is in
// (the nearest one that exists, when it does not exist yet) must be the
// user's or root's and writable by no one else, unless it is sticky (as
// /tmp is), where others cannot rename what is the user's.
func (d Dir) Check() error {
	uid := os.Getuid()
	st, err := os.Stat(string(d))
	switch {
	case err == nil && !st.IsDir():
		return stateError(d, string(d), "is not a directory", false)
	case err == nil:
		if why, mine := unsafeDir(st, uid, false); why != "" {
			return stateError(d, string(d), why, mine)
		}
	case !errors.Is(err, os.ErrNotExist):
		return stateError(d, string(d), "cannot be checked: "+err.Error(), false)
	}
	for p := filepath.Dir(string(d)); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) && p != filepath.Dir(p) {
			continue
		} else if err != nil {
			return stateError(d, p, "cannot be checked: "+err.Error(), false)
		}
		if why, mine := unsafeDir(st, uid, true); why != "" {
			return stateError(d, p, why, mine)
		}
		return nil
	}
}

// unsafeDir says why a directory with st lets another user than uid change
// what is in it, or "" when it does not, and whether uid owns it; above is
// a directory the state directory is in, which root may own and which may
// be sticky.
func unsafeDir(st os.FileInfo, uid int, above bool) (why string, mine bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return "has no owner to check", false
	}
	mode, mine := st.Mode(), int(sys.Uid) == uid
	switch {
	case !mine && !(above && sys.Uid == 0):
		return "is owned by " + ownerName(sys.Uid), false
	case above && mode&os.ModeSticky != 0:
		return "", mine
	case mode.Perm()&0o022 != 0:
		return fmt.Sprintf("is writable by other users (mode %04o)", mode.Perm()), mine
	}
	return "", mine
}

func ownerName(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return "user " + u.Username
	}
	return "uid " + strconv.Itoa(int(uid))
}

// stateError is a state directory that is not safe to use because of
// path; mine says the user owns path and can fix it.
func stateError(d Dir, path, why string, mine bool) error {
	what := "sysvm's state directory " + path
	if path != string(d) {
		what = fmt.Sprintf("%s, which holds sysvm's state directory %s,", path, d)
	}
	err := fmt.Errorf("%s %s: another user could forge what you allowed and the host keys sysvm trusts, so sysvm reads and writes nothing there", what, why)
	own := "point XDG_STATE_HOME (or SYSVM_STATE_DIR) at a directory of your own that only you can write"
	if mine {
		return hint.Wrap(err, "it is yours: make it yours alone with chmod go-w "+path, "or "+own)
	}
	return hint.Wrap(err, own)
}
