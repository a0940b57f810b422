package scaffold_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/scaffold"
)

// A .gitignore or .envrc that links out of the project is never written
// through: init refuses and says so, and the file elsewhere is unchanged.
func TestInitRefusesSymlinkedFiles(t *testing.T) {
	for _, name := range []string{".gitignore", ".envrc"} {
		t.Run(name, func(t *testing.T) {
			dir, elsewhere := t.TempDir(), filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(elsewhere, []byte("keep\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			_, err := scaffold.Init(dir, "vm-minimal", true)
			if err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
				t.Fatalf("Init = %v, want a refusal naming the link", err)
			}
			if b, _ := os.ReadFile(elsewhere); string(b) != "keep\n" {
				t.Errorf("init wrote through the link: %q", b)
			}
		})
	}
}
