package project

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// FileMax caps the size of a project file sysvm reads (sysvm.yaml, the
// Lima config, .envrc): a committed link to /dev/zero must not exhaust
// memory.
const FileMax = 1 << 20

// errTooBig and errNotRegular say why readRegular refused a file.
var (
	errTooBig     = errors.New("is too big")
	errNotRegular = errors.New("is not a regular file")
)

// ReadSmall reads the project file at path: a regular file (a link to
// one is followed) of at most FileMax bytes. A missing file's error
// satisfies errors.Is(err, os.ErrNotExist).
func ReadSmall(path string) ([]byte, error) {
	b, err := readRegular(path, FileMax, 0)
	switch {
	case errors.Is(err, errTooBig):
		return nil, fmt.Errorf("%s is larger than %d KiB; sysvm reads no project file that big", path, FileMax>>10)
	case errors.Is(err, errNotRegular):
		return nil, fmt.Errorf("%s is not a regular file; sysvm reads only regular project files", path)
	}
	return b, err
}

// readRegular reads a regular file of at most max bytes, opened with the
// extra flags given (O_NOFOLLOW). O_NONBLOCK keeps a FIFO from hanging the
// open; it is refused right after.
func readRegular(path string, max int64, flags int) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|flags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !st.Mode().IsRegular():
		return nil, errNotRegular
	}
	return readLimited(f, st, max)
}

// readLimited reads the open regular file f (st is its Stat) if it holds
// at most max bytes.
func readLimited(f *os.File, st os.FileInfo, max int64) ([]byte, error) {
	if st.Size() > max {
		return nil, errTooBig
	}
	// Files under /proc say size 0: the limit is checked on what is read.
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errTooBig
	}
	return b, nil
}
