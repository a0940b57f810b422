package zellij

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The attach script passes the layout only when the session is new, and
// puts the zellij it runs on PATH.
func TestLockedAttachArgv(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "zellij-0.45.0")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	fake := "#!/bin/sh\ncase $1 in list-sessions) cat \"$LIST\";; *) printf '%s ' \"$@\"; echo; echo \"PATH=$PATH\";; esac\n"
	if err := os.WriteFile(bin, []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ list, want string }{
		{"", "--layout /l.kdl attach --create web "},
		{"web-2 [Created 1s ago] \n", "--layout /l.kdl attach --create web "},
		{"web [Created 1s ago] \n", "attach --create web "},
		{"web [Created 1s ago] (EXITED - attach to resurrect)\n", "attach --create web "},
	} {
		list := filepath.Join(dir, "list")
		os.WriteFile(list, []byte(tc.list), 0o644)
		argv := LockedAttachArgv(bin, "/l.kdl", "web", false)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "LIST="+list, "XDG_RUNTIME_DIR="+dir)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v", tc.list, err)
		}
		lines := strings.Split(string(out), "\n")
		if lines[0] != tc.want {
			t.Errorf("sessions %q: ran %q, want %q", tc.list, lines[0], tc.want)
		}
		if !strings.HasPrefix(lines[1], "PATH="+bin+".path:") {
			t.Errorf("zellij's link not first on PATH: %q", lines[1])
		}
		if dest, err := os.Readlink(bin + ".path/zellij"); err != nil || dest != bin {
			t.Errorf("link %s.path/zellij: %q, %v", bin, dest, err)
		}
	}
}

func TestLockedAttachArgvQuiet(t *testing.T) {
	argv := LockedAttachArgv("/z", "/l.kdl", "web", true)
	if got := strings.Join(argv[len(argv)-11:], " "); got != "/z --layout /l.kdl attach --create web options --show-startup-tips false --show-release-notes false" {
		t.Errorf("create command: %q", got)
	}
}

// Without a usable place for the lock the attach still runs.
func TestLockedAttachArgvWithoutLock(t *testing.T) {
	argv := LockedAttachArgv("/bin/echo", "/l.kdl", "web", false)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR=/nonexistent/run")
	if out, err := cmd.Output(); err != nil || !strings.HasSuffix(string(out), "--layout /l.kdl attach --create web\n") {
		t.Errorf("ran %q (%v)", out, err)
	}
}
