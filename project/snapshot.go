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

// Snapshot is the project's files as sysvm read them, once, when it loaded
// the project: the allow step hashes these bytes, the settings are parsed
// from them and the Lima config handed to limactl is made from them, so
// what the user allowed is what sysvm uses. Each was read without
// following a symbolic link and is the user's own regular file.
type Snapshot struct {
	// YAML is sysvm.yaml, nil when there is none.
	YAML []byte
	// LimaConfig is .lima/config.yaml, nil when there is none.
	LimaConfig []byte
	// Layout is the project's layout file and LayoutRel its path relative
	// to the project directory; nil and "" for sysvm's default layout.
	Layout    []byte
	LayoutRel string
}

// FileError is a project file that is not the user's own regular file,
// reached without a symbolic link: sysvm uses none of it.
type FileError struct {
	Path string
	Why  string
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s %s; sysvm uses only your own regular files in a project, reached without a symbolic link", e.Path, e.Why)
}

// Hints says how to make the file usable.
func (e *FileError) Hints() []string {
	return []string{"replace it with a file of your own (not a link), or remove it"}
}

// checkChain requires every directory from dir up to / to be one that only
// the user (or root) can change: owned by the user or root, and writable
// by no one else — a directory writable by others (sticky /tmp) only when
// the next directory down is the user's own. Nobody else can then rename,
// exchange or replace anything on the way to the project's files, so what
// sysvm checks there stays what it uses. dir is absolute with its links
// resolved; a link on the way is refused.
func (t trust) checkChain(dir string) error {
	childMine := true
	for d := dir; ; {
		st, err := os.Lstat(d)
		if err != nil {
			return fmt.Errorf("checking %s: %w", d, err)
		}
		if st.Mode()&os.ModeSymlink != 0 {
			return &UntrustedError{Path: d, Why: "is a symbolic link", Above: dir}
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return &UntrustedError{Path: d, Why: "has no owner to check", Above: dir}
		}
		mode := st.Mode()
		shared := mode&0o002 != 0 || (mode&0o020 != 0 && int(sys.Gid) != t.privateGID)
		switch {
		case int(sys.Uid) != t.uid && sys.Uid != 0:
			return &UntrustedError{Path: d, Why: "is owned by " + owner(sys.Uid), Above: dir}
		case shared && !(mode&os.ModeSticky != 0 && childMine && d != dir):
			return &UntrustedError{Path: d, Why: fmt.Sprintf("is writable by other users (mode %04o)", mode&(os.ModePerm|os.ModeSticky)), Above: dir}
		}
		childMine = int(sys.Uid) == t.uid || sys.Uid == 0
		parent := filepath.Dir(d)
		if parent == d {
			return nil
		}
		d = parent
	}
}

// snapshot reads the project's files in dir (see Snapshot). The settings
// in sysvm.yaml name the layout, so it is parsed here too.
func (t trust) snapshot(dir string) (Snapshot, File, bool, error) {
	var s Snapshot
	b, err := t.readOwn(dir, FileName, FileMax)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return s, File{}, false, err
	}
	s.YAML = b
	f, has := File{}, b != nil
	if has {
		if f, err = ParseFile(b, filepath.Join(dir, FileName)); err != nil {
			return s, File{}, false, err
		}
	}
	if s.LimaConfig, err = t.readOwn(dir, LimaConfigPath, FileMax); err != nil && !errors.Is(err, os.ErrNotExist) {
		return s, File{}, false, err
	}
	p := &Project{Dir: dir, File: f}
	s.Layout, s.LayoutRel, err = p.readLayout(t)
	return s, f, has, err
}

// readOwn reads dir/rel, at most max bytes, requiring every directory
// between dir and the file, and the file itself, to be the user's own,
// writable by nobody else and no symbolic link. A missing file's error
// satisfies errors.Is(err, os.ErrNotExist).
func (t trust) readOwn(dir, rel string, max int64) ([]byte, error) {
	path := filepath.Join(dir, rel)
	for _, d := range between(rel) {
		st, err := os.Lstat(filepath.Join(dir, d))
		if err != nil {
			return nil, err
		}
		switch {
		case st.Mode()&os.ModeSymlink != 0:
			return nil, &FileError{Path: path, Why: "is reached through the symbolic link " + filepath.Join(dir, d)}
		case !st.IsDir():
			return nil, &FileError{Path: path, Why: "is below " + filepath.Join(dir, d) + ", which is not a directory"}
		}
		if why := t.ownPrivate(st); why != "" {
			return nil, &FileError{Path: path, Why: "is in " + filepath.Join(dir, d) + ", which " + why}
		}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, &FileError{Path: path, Why: "is a symbolic link"}
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &FileError{Path: path, Why: "is not a regular file"}
	}
	if why := t.ownPrivate(st); why != "" {
		return nil, &FileError{Path: path, Why: why}
	}
	b, err := readLimited(f, st, max)
	if errors.Is(err, errTooBig) {
		return nil, &FileError{Path: path, Why: fmt.Sprintf("is larger than %d KiB", max>>10)}
	}
	return b, err
}

// ownPrivate says why a file or directory of the project is not the
// user's own, writable by nobody else; "" when it is.
func (t trust) ownPrivate(st os.FileInfo) string {
	sys, ok := st.Sys().(*syscall.Stat_t)
	switch mode := st.Mode().Perm(); {
	case !ok:
		return "has no owner to check"
	case int(sys.Uid) != t.uid:
		return "is owned by " + owner(sys.Uid)
	case mode&0o002 != 0 || mode&0o020 != 0 && int(sys.Gid) != t.privateGID:
		return fmt.Sprintf("is writable by other users (mode %04o)", mode)
	}
	return ""
}

// between returns the directories on the way to rel, outermost first:
// "a/b/c" gives "a", "a/b".
func between(rel string) []string {
	var out []string
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for i := 1; i < len(parts); i++ {
		out = append(out, filepath.Join(parts[:i]...))
	}
	return out
}

// limaDirError is returned by CheckLimaDir.
func limaDirError(path, why string) error {
	return hint.Wrap(&FileError{Path: path, Why: why}, "remove it; sysvm creates the directory itself")
}

// CheckLimaDir checks, before sysvm writes the project's Lima config, that
// the project's .lima is missing or a directory of the user's own that
// nobody else can write: a committed link must not make sysvm write
// outside the project.
func (p *Project) CheckLimaDir() error {
	path := filepath.Join(p.Dir, filepath.Dir(LimaConfigPath))
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.Mode()&os.ModeSymlink != 0:
		return limaDirError(path, "is a symbolic link")
	case !st.IsDir():
		return limaDirError(path, "is not a directory")
	}
	if why := userTrust("").ownPrivate(st); why != "" {
		return limaDirError(path, why)
	}
	return nil
}
