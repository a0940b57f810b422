package project

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A committed marker that links to a device, a FIFO or a huge file is
// refused at once: discovery never hangs or reads without end.
func TestMarkersAreReadWithALimit(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		wantErr string // "" means the directory is simply no project
	}{
		{"sysvm.yaml linked to /dev/zero", func(t *testing.T, dir string) {
			os.Symlink("/dev/zero", filepath.Join(dir, FileName))
		}, "must not use"}, // root's and writable by all: untrusted first
		{"sysvm.yaml a FIFO", func(t *testing.T, dir string) {
			syscall.Mkfifo(filepath.Join(dir, FileName), 0o644)
		}, "not a regular file"},
		{"sysvm.yaml too big", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, FileName), "#"+strings.Repeat("x", FileMax)+"\n")
		}, "larger than"},
		{".envrc linked to /dev/zero", func(t *testing.T, dir string) {
			os.Symlink("/dev/zero", filepath.Join(dir, ".envrc"))
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			done := make(chan error, 1)
			go func() {
				_, err := Resolve(dir, Options{LimaHome: "/h/.lima"})
				done <- err
			}()
			select {
			case err := <-done:
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Fatalf("Resolve = %v, want %q", err, tt.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Resolve still reading after 10s")
			}
		})
	}
}
