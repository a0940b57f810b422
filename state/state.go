// Package state owns sysvm's own files under $XDG_STATE_HOME/sysvm: the
// registry of known projects, per-VM locks, logs, pinned host keys, the
// private copy of the config each VM was created from and the recorded
// Zellij digests.
// Directories are 0700, files 0600, and every write is a temp file renamed
// into place, so a crash or a full disk never leaves a half-written file.
// The CLI uses the directory only once [Dir.Check] found it the user's
// alone.
// It never reads a project's files, runs limactl or talks to a VM.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sysvm/sysvm/files"
	"github.com/sysvm/sysvm/hint"
)

// Dir is sysvm's state directory.
type Dir string

// Default is [Resolve] for callers that checked it once before: "" when
// it fails.
func Default(getenv func(string) string) Dir {
	d, _ := Resolve(getenv)
	return d
}

// Resolve returns $SYSVM_STATE_DIR, else $XDG_STATE_HOME/sysvm, else
// ~/.local/state/sysvm (see [Home]). It fails rather than return a relative
// path.
func Resolve(getenv func(string) string) (Dir, error) {
	if d := getenv("SYSVM_STATE_DIR"); d != "" {
		if !filepath.IsAbs(d) {
			return "", hint.Wrap(fmt.Errorf("SYSVM_STATE_DIR=%q is not an absolute path", d), "set SYSVM_STATE_DIR to an absolute directory, or unset it")
		}
		return Dir(d), nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return Dir(filepath.Join(d, "sysvm")), nil
	}
	home, err := Home(getenv)
	if err != nil {
		return "", err
	}
	return Dir(filepath.Join(home, ".local", "state", "sysvm")), nil
}

// Path joins elements under the state directory.
func (d Dir) Path(elem ...string) string {
	return filepath.Join(append([]string{string(d)}, elem...)...)
}

// MkdirAll creates a directory under the state dir with mode 0700.
func (d Dir) MkdirAll(elem ...string) (string, error) {
	p := d.Path(elem...)
	if err := os.MkdirAll(p, 0o700); err != nil {
		return "", hint.Wrap(fmt.Errorf("creating sysvm's state directory: %w", err),
			fmt.Sprintf("check that %s is writable, or set SYSVM_STATE_DIR", d))
	}
	// MkdirAll leaves existing directories alone; tighten ours.
	for q := p; strings.HasPrefix(q, string(d)) && len(q) >= len(d); q = filepath.Dir(q) {
		_ = os.Chmod(q, 0o700)
		if q == string(d) {
			break
		}
	}
	return p, nil
}

// WriteFile writes data to path atomically with mode 0600.
func WriteFile(path string, data []byte) error { return files.Replace(path, data, 0o600) }

// Record is what sysvm remembers about a project.
type Record struct {
	Name    string    `json:"name"`
	Dir     string    `json:"dir"`
	VM      string    `json:"vm"`
	Session string    `json:"session"`
	Ports   []int     `json:"ports,omitempty"`
	Updated time.Time `json:"updated"`
	// Idle is the VM's idle stop: its period, and what sysvm knows of its
	// run (see idle.go).
	Idle
}

// Save writes the project's record.
func (d Dir) Save(r Record) error {
	if err := d.saveJSON(r, "projects", r.VM+".json"); err != nil {
		return fmt.Errorf("saving project record: %w", err)
	}
	return nil
}

// saveJSON writes v, indented, as the file name in the subdirectory sub.
func (d Dir) saveJSON(v any, sub, name string) error {
	dir, err := d.MkdirAll(sub)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(filepath.Join(dir, name), append(b, '\n'))
}

// Forget removes the project's record.
func (d Dir) Forget(vm string) error {
	return files.Remove(d.Path("projects", vm+".json"))
}

// Records returns every known project, sorted by name. Unreadable records
// are skipped: one bad file must not hide the others.
func (d Dir) Records() ([]Record, error) {
	ents, err := os.ReadDir(d.Path("projects"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []Record
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(d.Path("projects", e.Name()))
		if err != nil {
			continue
		}
		var r Record
		if json.Unmarshal(b, &r) == nil && r.VM != "" {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Known returns the directory of the project or VM called name, if sysvm
// knows one.
func (d Dir) Known(name string) (string, bool) {
	recs, _ := d.Records()
	for _, r := range recs {
		if r.Name == name || r.VM == name {
			return r.Dir, true
		}
	}
	return "", false
}

// Lock is an exclusive, process-wide lock on one VM. flock is released by the
// kernel when the process dies, so a crash never leaves a stale lock.
type Lock struct{ f *os.File }

// LockVM takes the VM's lock, blocking until it is free.
func (d Dir) LockVM(vm string) (*Lock, error) {
	dir, err := d.MkdirAll("locks")
	if err != nil {
		return nil, err
	}
	return LockFile(filepath.Join(dir, vm+".lock"))
}

// LockFile takes an exclusive lock on path, creating the file if needed and
// blocking until the lock is free.
func LockFile(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}
