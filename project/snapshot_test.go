package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The project's files are read once, as the user's own regular files
// reached without a link; anything else is an error naming the file, not
// a note, whoever it points to.
func TestSnapshotRefusesWhatIsNotTheUsersOwnFile(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir, elsewhere string)
		wantErr string
	}{
		{"sysvm.yaml linked to the user's own file", func(t *testing.T, dir, elsewhere string) {
			write(t, filepath.Join(elsewhere, "other.yaml"), "cpus: 2\n")
			os.Symlink(filepath.Join(elsewhere, "other.yaml"), filepath.Join(dir, FileName))
		}, "sysvm.yaml is a symbolic link"},
		{"the Lima config linked to another user's file", func(t *testing.T, dir, elsewhere string) {
			write(t, filepath.Join(dir, FileName), "\n")
			write(t, filepath.Join(elsewhere, "theirs.yaml"), "mounts: [{location: \"~\", writable: true}]\n")
			chownNobody(t, filepath.Join(elsewhere, "theirs.yaml"), nobody, nobody)
			mkdir(t, filepath.Join(dir, ".lima"), 0o755)
			os.Symlink(filepath.Join(elsewhere, "theirs.yaml"), filepath.Join(dir, LimaConfigPath))
		}, "config.yaml is a symbolic link"},
		{"a committed .lima linked elsewhere", func(t *testing.T, dir, elsewhere string) {
			write(t, filepath.Join(dir, FileName), "\n")
			write(t, filepath.Join(elsewhere, "config.yaml"), "cpus: 1\n")
			os.Symlink(elsewhere, filepath.Join(dir, ".lima"))
		}, "is reached through the symbolic link"},
		{"the Lima config owned by another user", func(t *testing.T, dir, elsewhere string) {
			write(t, filepath.Join(dir, FileName), "\n")
			write(t, filepath.Join(dir, LimaConfigPath), "cpus: 1\n")
			chownNobody(t, filepath.Join(dir, LimaConfigPath), nobody, nobody)
		}, "config.yaml is owned by user nobody"},
		{"sysvm.yaml writable by everyone", func(t *testing.T, dir, elsewhere string) {
			write(t, filepath.Join(dir, FileName), "cpus: 1\n")
			os.Chmod(filepath.Join(dir, FileName), 0o666)
		}, "sysvm.yaml: it is writable by every user"},
		{".lima owned by another user", func(t *testing.T, dir, elsewhere string) {
			write(t, filepath.Join(dir, FileName), "\n")
			write(t, filepath.Join(dir, LimaConfigPath), "cpus: 1\n")
			chownNobody(t, filepath.Join(dir, ".lima"), nobody, nobody)
		}, "which is owned by user nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			dir := mkdir(t, filepath.Join(root, "p"), 0o755)
			tt.setup(t, dir, mkdir(t, filepath.Join(root, "elsewhere"), 0o755))
			p, err := Resolve(dir, Options{LimaHome: "/h/.lima"})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Resolve = %+v, %v; want an error saying %q", p, err, tt.wantErr)
			}
		})
	}
}

// What Load read is what the project holds at that moment, and nothing
// reads the files again: a later change is not seen by the snapshot.
func TestSnapshotHoldsTheBytesItParsed(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, FileName), "cpus: 3\nlayout: dev.kdl\n")
	write(t, filepath.Join(dir, LimaConfigPath), "cpus: 5\n")
	write(t, filepath.Join(dir, "dev.kdl"), "layout {}\n")
	p, err := Load(dir, Options{LimaHome: "/h/.lima"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, FileName), "cpus: 9\n")
	if string(p.Snap.YAML) != "cpus: 3\nlayout: dev.kdl\n" || p.File.CPUs != 3 {
		t.Errorf("YAML %q, cpus %d", p.Snap.YAML, p.File.CPUs)
	}
	if string(p.Snap.LimaConfig) != "cpus: 5\n" || string(p.Snap.Layout) != "layout {}\n" || p.Snap.LayoutRel != "dev.kdl" {
		t.Errorf("snapshot = %+v", p.Snap)
	}
}

// The project and every directory above it must be ones only the user or
// root can change; a sticky, world-writable directory counts only above a
// directory of the user's own.
func TestChainAboveTheProject(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sticky := mkdir(t, filepath.Join(root, "tmp"), 0o777|os.ModeSticky)
	own := mkdir(t, filepath.Join(sticky, "mine", "p"), 0o755)
	if _, err := Load(own, Options{LimaHome: "/h/.lima"}); err != nil {
		t.Errorf("a project in an own directory below a sticky one: %v", err)
	}
	theirs := mkdir(t, filepath.Join(sticky, "theirs"), 0o755)
	chownNobody(t, theirs, nobody, nobody)
	below := mkdir(t, filepath.Join(theirs, "p"), 0o755)
	chownNobody(t, below, os.Getuid(), os.Getgid())
	if _, err := Load(below, Options{LimaHome: "/h/.lima"}); err == nil || !strings.Contains(err.Error(), theirs+" is owned by user nobody") {
		t.Errorf("Load below another user's directory = %v", err)
	}
}
