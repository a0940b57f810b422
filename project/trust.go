package project

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The discovery rule: a project is found by walking up from the starting
// directory, and the walk only ever looks at directories the user trusts.
//
//   - A directory is trusted when the user owns it and nobody else can write
//     to it: not world-writable (sticky /tmp included), and not
//     group-writable unless its group is the user's own private group (the
//     group named like the user that is the user's primary group, as
//     distributions with a umask of 002 create) and nobody else is in it:
//     /etc/group lists no other member and no other user in /etc/passwd
//     has it as primary group. A group those files do not list cannot be
//     checked and is not private.
//   - The walk stops at the first untrusted directory, without looking into
//     it, and never goes above $HOME when it starts inside $HOME.
//   - A marker (sysvm.yaml, .lima/config.yaml, an .envrc saying `use
//     sysvm`) owned by another user is ignored, with a note, and the walk
//     goes on upward.
//
// So /srv/work/x, owned by the user and writable only by them, is a project
// when it is the starting directory or below it, while /srv (root's) and
// /tmp (everyone's) never are.

// trust decides what discovery may look at; the zero value is the current
// user's.
type trust struct {
	uid int
	// privateGID is the user's private group, or -1 when they have none.
	privateGID int
	home       string
}

// userTrust returns the rule for the current user with home as $HOME.
func userTrust(home string) trust {
	if home != "" {
		if real, err := filepath.EvalSymlinks(home); err == nil {
			home = real
		}
	}
	return trust{uid: os.Getuid(), privateGID: privateGroup(), home: home}
}

var privateGroup = sync.OnceValue(func() int {
	u, err := user.Current()
	if err != nil {
		return -1
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil || g.Name != u.Username {
		return -1
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return -1
	}
	group, err1 := os.ReadFile("/etc/group")
	passwd, err2 := os.ReadFile("/etc/passwd")
	if err1 != nil || err2 != nil || !soleMember(u.Username, u.Gid, group, passwd) {
		return -1
	}
	return gid
})

// soleMember reports whether name is the only member of the group gid by
// the contents of /etc/group and /etc/passwd: the group is listed, with no
// member but name, and no other user has it as primary group. Files that
// defer to NIS ("+" or "-" lines) cannot be checked.
func soleMember(name, gid string, group, passwd []byte) bool {
	listed := false
	for _, line := range strings.Split(string(group), "\n") {
		if strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
			return false
		}
		f := strings.Split(line, ":")
		if len(f) < 4 || f[2] != gid {
			continue
		}
		listed = true
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" && m != name {
				return false
			}
		}
	}
	for _, line := range strings.Split(string(passwd), "\n") {
		if strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
			return false
		}
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[3] == gid && f[0] != name {
			return false
		}
	}
	return listed
}

// untrusted says why the file or directory at path must not steer sysvm, or
// "" when it may.
func (t trust) untrusted(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "cannot be checked: " + err.Error()
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return "has no owner to check"
	}
	mode := st.Mode().Perm()
	switch {
	case int(sys.Uid) != t.uid:
		return "is owned by " + owner(sys.Uid)
	case mode&0o002 != 0:
		return fmt.Sprintf("is writable by every user (mode %04o)", st.Mode()&(os.ModePerm|os.ModeSticky))
	case mode&0o020 != 0 && int(sys.Gid) != t.privateGID:
		return fmt.Sprintf("is writable by its group (mode %04o)", mode)
	}
	return ""
}

func owner(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return "user " + u.Username
	}
	return "uid " + strconv.Itoa(int(uid))
}

// findRoot walks up from dir (absolute, symlinks resolved) by the rule
// above. It returns the project directory, or "" when there is none, and a
// note for each marker it ignored.
func (t trust) findRoot(dir string) (root string, notes []string) {
	inHome := t.home != "" && within(t.home, dir)
	for d := dir; ; {
		if t.untrusted(d) != "" {
			return "", notes
		}
		ok, ignored := t.isRoot(d)
		notes = append(notes, ignored...)
		if ok {
			return d, notes
		}
		parent := filepath.Dir(d)
		if parent == d || (inHome && d == t.home) {
			return "", notes
		}
		d = parent
	}
}

// isRoot reports whether dir holds a marker the user trusts, and notes the
// markers it ignored.
func (t trust) isRoot(dir string) (bool, []string) {
	var notes []string
	for _, f := range []string{FileName, LimaConfigPath, ".envrc"} {
		path := filepath.Join(dir, f)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if f == ".envrc" && !EnvrcUsesSysvm(path) {
			continue
		}
		why := t.untrusted(path)
		if why == "" && f == LimaConfigPath {
			why = t.untrusted(filepath.Dir(path))
			if why != "" {
				path = filepath.Dir(path)
			}
		}
		if why != "" {
			notes = append(notes, fmt.Sprintf("ignoring %s: it %s", path, why))
			continue
		}
		return true, notes
	}
	return false, notes
}

// within reports whether path is dir or below it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != ".."+string(filepath.Separator))
}
