package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nobody is the uid/gid of Debian's and macOS's unprivileged user; only
// root can hand a file to it.
const nobody = 65534

func chownNobody(t *testing.T, path string, uid, gid int) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to give a file to another user (chown to nobody); run the tests as root")
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDiscoveryStopsWhereTrustEnds(t *testing.T) {
	tests := []struct {
		name string
		// setup builds the tree under root and returns the starting
		// directory, $HOME, and the project directory expected.
		setup     func(t *testing.T, root string) (start, home, want string)
		wantNote  string
		wantError string
	}{
		{"a marker owned by another user is ignored with a note", func(t *testing.T, root string) (string, string, string) {
			write(t, filepath.Join(root, "a", "sysvm.yaml"), "cpus: 1\n")
			chownNobody(t, filepath.Join(root, "a", "sysvm.yaml"), nobody, nobody)
			start := mkdir(t, filepath.Join(root, "a", "b"), 0o755)
			return start, "", start
		}, "is owned by", ""},
		{"a foreign .envrc saying use sysvm is ignored", func(t *testing.T, root string) (string, string, string) {
			write(t, filepath.Join(root, "a", ".envrc"), "use sysvm\n")
			chownNobody(t, filepath.Join(root, "a", ".envrc"), nobody, nobody)
			start := mkdir(t, filepath.Join(root, "a", "b"), 0o755)
			return start, "", start
		}, "is owned by", ""},
		{"a lima config in a foreign .lima is ignored", func(t *testing.T, root string) (string, string, string) {
			write(t, filepath.Join(root, "a", ".lima", "config.yaml"), "vmType: qemu\n")
			chownNobody(t, filepath.Join(root, "a", ".lima"), nobody, nobody)
			start := mkdir(t, filepath.Join(root, "a", "b"), 0o755)
			return start, "", start
		}, "is owned by", ""},
		{"a project below a directory owned by another user is refused", func(t *testing.T, root string) (string, string, string) {
			write(t, filepath.Join(root, "a", "sysvm.yaml"), "cpus: 1\n")
			chownNobody(t, filepath.Join(root, "a"), nobody, nobody)
			start := mkdir(t, filepath.Join(root, "a", "b"), 0o755)
			return start, "", start
		}, "", "/a is owned by user nobody, and the project"},
		{"a world-writable sticky directory ends the walk", func(t *testing.T, root string) (string, string, string) {
			write(t, filepath.Join(root, "tmp", "sysvm.yaml"), "cpus: 1\n")
			mkdir(t, filepath.Join(root, "tmp"), 0o777|os.ModeSticky)
			start := mkdir(t, filepath.Join(root, "tmp", "try"), 0o755)
			return start, "", start
		}, "", ""},
		{"a project below a directory writable by a shared group is refused", func(t *testing.T, root string) (string, string, string) {
			write(t, filepath.Join(root, "g", "sysvm.yaml"), "cpus: 1\n")
			mkdir(t, filepath.Join(root, "g"), 0o775)
			chownNobody(t, filepath.Join(root, "g"), os.Getuid(), nobody)
			start := mkdir(t, filepath.Join(root, "g", "x"), 0o755)
			return start, "", start
		}, "", "/g is writable by other users (mode 0775), and the project"},
		{"never above $HOME", func(t *testing.T, root string) (string, string, string) {
			write(t, filepath.Join(root, "sysvm.yaml"), "cpus: 1\n")
			home := mkdir(t, filepath.Join(root, "home"), 0o755)
			start := mkdir(t, filepath.Join(home, "x", "y"), 0o755)
			return start, home, start
		}, "", ""},
		{"$HOME itself may be the project", func(t *testing.T, root string) (string, string, string) {
			home := mkdir(t, filepath.Join(root, "home"), 0o755)
			write(t, filepath.Join(home, "sysvm.yaml"), "cpus: 1\n")
			return mkdir(t, filepath.Join(home, "x"), 0o755), home, home
		}, "", ""},
		{"the user's own nested projects", func(t *testing.T, root string) (string, string, string) {
			home := mkdir(t, filepath.Join(root, "home"), 0o755)
			write(t, filepath.Join(home, "outer", "sysvm.yaml"), "cpus: 1\n")
			write(t, filepath.Join(home, "outer", "inner", ".envrc"), "use sysvm\n")
			start := mkdir(t, filepath.Join(home, "outer", "inner", "src"), 0o755)
			return start, home, filepath.Join(home, "outer", "inner")
		}, "", ""},
		{"an own project outside $HOME", func(t *testing.T, root string) (string, string, string) {
			write(t, filepath.Join(root, "srv", "work", "sysvm.yaml"), "cpus: 1\n")
			start := mkdir(t, filepath.Join(root, "srv", "work", "x"), 0o755)
			return start, filepath.Join(root, "home"), filepath.Join(root, "srv", "work")
		}, "", ""},
		{"a world-writable starting directory is refused", func(t *testing.T, root string) (string, string, string) {
			return mkdir(t, filepath.Join(root, "pub"), 0o777|os.ModeSticky), "", ""
		}, "", "is writable by every user"},
		{"a foreign marker in the starting directory is refused", func(t *testing.T, root string) (string, string, string) {
			start := mkdir(t, filepath.Join(root, "a"), 0o755)
			write(t, filepath.Join(start, "sysvm.yaml"), "cpus: 1\n")
			chownNobody(t, filepath.Join(start, "sysvm.yaml"), nobody, nobody)
			return start, "", ""
		}, "", "must not use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			start, home, want := tt.setup(t, root)
			p, err := Resolve(start, Options{LimaHome: "/h/.lima", Home: home})
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Dir != want {
				t.Errorf("Dir = %q, want %q", p.Dir, want)
			}
			if p.HasFile && want == start && tt.wantNote != "" {
				t.Errorf("the ignored sysvm.yaml was read: %+v", p.File)
			}
			notes := strings.Join(p.Notes, "\n")
			if tt.wantNote == "" && notes != "" {
				t.Errorf("unexpected notes: %s", notes)
			}
			if tt.wantNote != "" && (len(p.Notes) != 1 || !strings.Contains(notes, tt.wantNote)) {
				t.Errorf("notes = %q, want one saying %q", p.Notes, tt.wantNote)
			}
		})
	}
}

func TestUntrustedErrorHasHint(t *testing.T) {
	var h interface{ Hints() []string }
	if !errors.As(error(&UntrustedError{Path: "/tmp", Why: "is writable by every user"}), &h) || len(h.Hints()) == 0 {
		t.Fatal("UntrustedError has no hint")
	}
}

func TestSoleMemberOfPrivateGroup(t *testing.T) {
	passwd := "root:x:0:0::/root:/bin/sh\nann:x:1000:1000::/home/ann:/bin/sh\n"
	for _, tt := range []struct {
		group, passwd string
		want          bool
	}{
		{"ann:x:1000:\n", passwd, true},
		{"ann:x:1000:ann\n", passwd, true},
		{"ann:x:1000:bob\n", passwd, false},
		{"ann:x:1000:ann,bob\n", passwd, false},
		{"ann:x:1000:\n", passwd + "bob:x:1001:1000::/home/bob:/bin/sh\n", false},
		{"other:x:5:\n", passwd, false},
		{"ann:x:1000:\n+:::\n", passwd, false},
	} {
		if got := soleMember("ann", "1000", []byte(tt.group), []byte(tt.passwd)); got != tt.want {
			t.Errorf("group %q, passwd %q: %v, want %v", tt.group, tt.passwd, got, tt.want)
		}
	}
}
