package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/hint"
)

func TestCheckRefusesAStateDirectoryOthersCanWrite(t *testing.T) {
	root := t.TempDir()
	mine := Dir(filepath.Join(root, "mine", "sysvm"))
	if err := mine.Check(); err != nil {
		t.Errorf("a state directory yet to be made in the user's own directory: %v", err)
	}
	os.MkdirAll(string(mine), 0o700)
	if err := mine.Check(); err != nil {
		t.Errorf("the user's own state directory: %v", err)
	}
	os.Chmod(string(mine), 0o770)
	if err := mine.Check(); err == nil || !strings.Contains(err.Error(), string(mine)+" is writable by other users") || len(hint.Of(err)) == 0 {
		t.Errorf("a group-writable state directory: %v", err)
	}
	shared := filepath.Join(root, "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777)
	if err := Dir(filepath.Join(shared, "sysvm")).Check(); err == nil || !strings.Contains(err.Error(), shared+", which holds") {
		t.Errorf("a state directory in a world-writable directory: %v", err)
	}
	os.Chmod(shared, 0o777|os.ModeSticky)
	if err := Dir(filepath.Join(shared, "sysvm")).Check(); err != nil {
		t.Errorf("a state directory in a sticky directory: %v", err)
	}
}
