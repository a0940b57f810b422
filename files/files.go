// Package files writes files so that no reader ever sees half of one: a
// temporary file beside the target, synced, then renamed over it
// ([Replace]) or linked to it only when it does not exist yet
// ([CreateNew]); and it removes them, a file already gone being no error
// ([Remove]). It knows nothing of what the files hold.
package files

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Replace writes data to path with mode perm, replacing any file there
// whole: a crash or a full disk leaves either the old file or the new one.
func Replace(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	return os.Rename(tmp, path)
}

// Remove removes the file at path; one that does not exist is no error.
func Remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// CreateNew creates path holding data unless something already exists
// there, and reports whether it did. Nothing is ever replaced: the data is
// written aside and hard-linked into place, which fails when path exists.
// Where hard links are not supported (some FUSE and network file systems)
// it falls back to an exclusive create, which still never replaces a file.
func CreateNew(path string, data []byte, perm fs.FileMode) (bool, error) {
	return createNew(path, data, perm, os.Link)
}

// createNew is CreateNew with the hard-link call given, so the fallback can
// be tested on a file system that does have hard links.
func createNew(path string, data []byte, perm fs.FileMode, link func(oldname, newname string) error) (bool, error) {
	if _, err := os.Lstat(path); err == nil {
		return false, nil
	}
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	err = link(tmp, path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return false, err
	}
	return true, nil
}

// writeTemp writes data to a new temporary file beside path, synced and
// with mode perm, and returns its name.
func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}
