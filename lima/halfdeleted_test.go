package lima

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// halfDeletedHome is a LIMA_HOME with a healthy instance "ok", half-deleted
// ones "old" (left a while ago) and "young" (its directory just changed),
// Lima's own "_config", and "link", a link to a directory without
// lima.yaml outside LIMA_HOME.
func halfDeletedHome(t *testing.T) (c *Client, outside string) {
	t.Helper()
	home, outside := t.TempDir(), t.TempDir()
	for _, d := range []string{"ok", "old", "young", "_config"} {
		os.MkdirAll(filepath.Join(home, d), 0o700)
	}
	os.WriteFile(filepath.Join(home, "ok", "lima.yaml"), []byte("cpus: 2\n"), 0o600)
	os.WriteFile(filepath.Join(home, "old", "diffdisk"), []byte("disk"), 0o600)
	os.WriteFile(filepath.Join(outside, "keep"), []byte("keep"), 0o600)
	if err := os.Symlink(outside, filepath.Join(home, "link")); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * settle)
	for _, p := range []string{"old/diffdisk", "old", "_config", "ok"} {
		os.Chtimes(filepath.Join(home, p), past, past)
	}
	return &Client{Home: home}, outside
}

// TestRemoveHalfDeleted: only a real directory in LIMA_HOME named exactly
// the instance, without lima.yaml, is removed.
func TestRemoveHalfDeleted(t *testing.T) {
	c, outside := halfDeletedHome(t)
	for _, name := range []string{"ok", "link", "_config", "../" + filepath.Base(c.Home), "", ".", "old/diffdisk", "none"} {
		if err := c.RemoveHalfDeleted(name); err == nil {
			t.Errorf("RemoveHalfDeleted(%q) succeeded; want a refusal", name)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Errorf("the link's target lost its file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.Home, "ok", "lima.yaml")); err != nil {
		t.Errorf("the healthy instance lost its config: %v", err)
	}
	if err := c.RemoveHalfDeleted("old"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(c.Home, "old")); !os.IsNotExist(err) {
		t.Errorf("old is still there: %v", err)
	}
}

// TestMoveHalfDeletedSiblings: siblings without lima.yaml that have been
// left alone a while are found and moved out of Lima's instance namespace
// (a directory starting with "_", which Lima skips); the instance itself,
// healthy ones, young ones (a create under way), links and Lima's own
// directories are not.
func TestMoveHalfDeletedSiblings(t *testing.T) {
	c, _ := halfDeletedHome(t)
	got, err := c.HalfDeletedSiblings("self")
	if err != nil || !slices.Equal(got, []string{"old"}) {
		t.Fatalf("HalfDeletedSiblings = %q, %v; want [old]", got, err)
	}
	if got, _ := c.HalfDeletedSiblings("old"); len(got) != 0 {
		t.Errorf("HalfDeletedSiblings(old) = %q; want the instance itself left out", got)
	}
	to, err := c.MoveAside("old")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(to) != filepath.Join(c.Home, "_sysvm-broken") || !strings.HasPrefix(filepath.Base(to), "old-") {
		t.Errorf("moved to %s", to)
	}
	if b, err := os.ReadFile(filepath.Join(to, "diffdisk")); err != nil || string(b) != "disk" {
		t.Errorf("the moved directory lost its contents: %q, %v", b, err)
	}
	names, _ := c.instanceDirs()
	if !slices.Equal(names, []string{"ok", "young"}) {
		t.Errorf("instance directories after the move: %q", names)
	}
	if _, err := c.MoveAside("ok"); err == nil {
		t.Error("MoveAside moved a healthy instance")
	}
}
