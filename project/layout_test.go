package project

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadLayoutRefusesWhatIsNotTheProjectsFile(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.kdl")
	write(t, outside, "layout {}\n")
	tests := []struct {
		name string
		// setup makes the layout in dir and returns sysvm.yaml's layout:.
		setup   func(t *testing.T, dir string) string
		want    string // the layout read, or
		wantErr string // the error's words
	}{
		{".sysvm/layout.kdl", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, LayoutFile), "layout { pane; }\n")
			return ""
		}, "layout { pane; }\n", ""},
		{"layout: inside the project", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "dev", "x.kdl"), "layout { x; }\n")
			return "dev/../dev/x.kdl"
		}, "layout { x; }\n", ""},
		{"no layout", func(t *testing.T, dir string) string { return "" }, "", ""},
		{"a symlink to a file outside", func(t *testing.T, dir string) string {
			os.MkdirAll(filepath.Join(dir, ".sysvm"), 0o755)
			os.Symlink(outside, filepath.Join(dir, LayoutFile))
			return ""
		}, "", "is a symbolic link"},
		{"a symlink to /dev/zero", func(t *testing.T, dir string) string {
			os.MkdirAll(filepath.Join(dir, ".sysvm"), 0o755)
			os.Symlink("/dev/zero", filepath.Join(dir, LayoutFile))
			return ""
		}, "", "is a symbolic link"},
		{"a symlink to /proc/self/environ through layout:", func(t *testing.T, dir string) string {
			os.Symlink("/proc/self/environ", filepath.Join(dir, "env.kdl"))
			return "env.kdl"
		}, "", "is a symbolic link"},
		{"a directory symlinked outside", func(t *testing.T, dir string) string {
			elsewhere := t.TempDir()
			write(t, filepath.Join(elsewhere, "layout.kdl"), "layout {}\n")
			os.Symlink(elsewhere, filepath.Join(dir, ".sysvm"))
			return ""
		}, "", "through the symbolic link"},
		{"a FIFO", func(t *testing.T, dir string) string {
			if err := syscall.Mkfifo(filepath.Join(dir, "fifo.kdl"), 0o644); err != nil {
				t.Fatal(err)
			}
			return "fifo.kdl"
		}, "", "not a regular file"},
		{"oversized", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, LayoutFile), strings.Repeat("x", LayoutMax+1))
			return ""
		}, "", "at most 256 KiB"},
		{"an absolute layout:", func(t *testing.T, dir string) string { return outside }, "", "absolute path"},
		{"a layout: escaping with ..", func(t *testing.T, dir string) string { return "a/../../secret.kdl" }, "", "outside the project"},
		{"a missing layout:", func(t *testing.T, dir string) string { return "nope.kdl" }, "", "cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := &Project{Dir: dir, File: File{Layout: tt.setup(t, dir)}}
			b, _, err := p.readLayout(userTrust(""))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(b) != tt.want {
				t.Fatalf("readLayout = %q, %v; want %q", b, err, tt.want)
			}
		})
	}
}
