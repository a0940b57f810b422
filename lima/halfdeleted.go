package lima

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Half-deleted instances: an instance directory without lima.yaml, left by
// an interrupted create or delete. No limactl command removes one: 2.2
// refuses to delete it, exit 1, "in case it is currently being cloned
// into" (Lima v2.2.0 cmd/limactl/delete.go:74-89); 1.x and 2.0–2.1 warn
// about it but then fail in the network check that `start`, `stop` and
// `delete` run over every instance directory, which stops at the first
// one without lima.yaml (Lima v1.2.2 pkg/networks/reconcile/reconcile.go:36-40,
// cmd/limactl/start.go:465, stop.go:51, delete.go:62; v2.1.4 the same
// file:37-41). 2.2 skips it there (v2.2.0 reconcile.go:39-45).

// brokenDir is where MoveAside puts directories, inside LIMA_HOME but
// outside its instance namespace: Lima skips every entry whose name starts
// with "_" or "." (Lima v1.2.2 pkg/store/store.go:77, v2.2.0 :66).
const brokenDir = "_sysvm-broken"

// settle is how long an instance directory without lima.yaml must have
// been left alone before HalfDeletedSiblings reports it: Lima writes
// lima.yaml right after it makes the directory, so a younger one may be a
// create, a clone or a delete under way.
const settle = time.Minute

// instanceDir returns LIMA_HOME/name after checking that it is what a
// half-deleted instance must be: a real directory (not a link), a direct
// child of LIMA_HOME named exactly name, in Lima's instance namespace,
// without lima.yaml.
func (c *Client) instanceDir(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." ||
		strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return "", fmt.Errorf("%q is not a Lima instance name", name)
	}
	dir := filepath.Join(c.home(), name)
	st, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s is not a directory (a link?): sysvm leaves it alone", dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, configFile)); !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s has its %s: it is not half-deleted", dir, configFile)
	}
	return dir, nil
}

// RemoveHalfDeleted removes the half-deleted instance name: its directory
// in LIMA_HOME and nothing else, and only after checking that it is a real
// directory there without lima.yaml. It is sysvm's own removal of what
// limactl refuses (see above); the caller must hold the VM's lock.
func (c *Client) RemoveHalfDeleted(name string) error {
	dir, err := c.instanceDir(name)
	if err != nil {
		return fmt.Errorf("removing the half-deleted Lima instance %s: %w", name, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the half-deleted Lima instance %s: %w", name, err)
	}
	return nil
}

// HalfDeletedSiblings returns the instance directories in LIMA_HOME other
// than except that have no lima.yaml and have not changed for a minute.
func (c *Client) HalfDeletedSiblings(except string) ([]string, error) {
	names, err := c.instanceDirs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if n == except {
			continue
		}
		dir, err := c.instanceDir(n)
		if err != nil || changedWithin(dir, settle) {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// changedWithin reports whether dir or an entry in it changed within d.
func changedWithin(dir string, d time.Duration) bool {
	since := time.Now().Add(-d)
	st, err := os.Lstat(dir)
	if err != nil || st.ModTime().After(since) {
		return true
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().After(since) {
			return true
		}
	}
	return false
}

// MoveAside moves the half-deleted instance name out of Lima's instance
// namespace, to LIMA_HOME/_sysvm-broken/<name>-<time>, and returns where
// it went. Nothing in it is deleted.
func (c *Client) MoveAside(name string) (string, error) {
	dir, err := c.instanceDir(name)
	if err != nil {
		return "", fmt.Errorf("moving the half-deleted Lima instance %s aside: %w", name, err)
	}
	parent := filepath.Join(c.home(), brokenDir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("moving the half-deleted Lima instance %s aside: %w", name, err)
	}
	to := filepath.Join(parent, name+"-"+time.Now().UTC().Format("20060102T150405.000000000Z"))
	if err := os.Rename(dir, to); err != nil {
		return "", fmt.Errorf("moving the half-deleted Lima instance %s aside: %w", name, err)
	}
	return to, nil
}
