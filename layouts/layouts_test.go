package layouts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// editorScript returns the `sh -c` script of the default layout's editor
// pane, unescaped from its KDL string.
func editorScript(t *testing.T) string {
	for _, line := range strings.Split(string(Default), "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), `args "-c" "`)
		if !ok {
			continue
		}
		rest, ok = strings.CutSuffix(rest, `"`)
		if !ok {
			t.Fatalf("the args line does not end in a string: %q", line)
		}
		return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(rest)
	}
	t.Fatal("the default layout has no `args \"-c\" ...` line")
	return ""
}

// TestEditorPane runs the editor pane's script in a real sh with only fake
// programs on PATH, and checks which one it starts.
func TestEditorPane(t *testing.T) {
	tests := []struct {
		name   string
		editor string   // $EDITOR
		have   []string // programs the guest has
		want   string   // what runs first
	}{
		{"EDITOR wins", "myed", []string{"myed", "vim", "nano"}, "myed ."},
		{"EDITOR with arguments", "myed -w", []string{"myed"}, "myed -w ."},
		{"EDITOR missing falls back", "nosuch", []string{"vim", "nano"}, "vim ."},
		{"first editor found", "", []string{"nano", "vi"}, "vi ."},
		{"only nano", "", []string{"nano"}, "nano ."},
		// A stock guest without any editor gets its shell, not "vi: not found".
		{"no editor at all", "", nil, "shell"},
	}
	script := editorScript(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := t.TempDir()
			for _, name := range append(tt.have, "usershell") {
				body := "#!/bin/sh\necho \"" + name + " $*\"\n"
				if name == "usershell" {
					body = "#!/bin/sh\necho shell\n"
				}
				if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("/bin/sh", "-c", script)
			cmd.Env = []string{"PATH=" + bin, "EDITOR=" + tt.editor, "SHELL=" + filepath.Join(bin, "usershell")}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("script failed: %v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if lines[0] != tt.want {
				t.Fatalf("ran %q first, want %q (output %q)", lines[0], tt.want, out)
			}
			if lines[len(lines)-1] != "shell" {
				t.Errorf("the pane does not end in the user's shell: %q", out)
			}
		})
	}
}

// An EDITOR set in ~/.profile is seen, though the pane is no login shell.
func TestEditorPaneReadsProfile(t *testing.T) {
	home, bin := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(home, ".profile"), []byte("EDITOR=myed; export EDITOR\n"), 0o644)
	for _, name := range []string{"myed", "vim"} {
		os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\necho \""+name+" $*\"\n"), 0o755)
	}
	os.WriteFile(filepath.Join(bin, "usershell"), []byte("#!/bin/sh\necho shell\n"), 0o755)
	cmd := exec.Command("/bin/sh", "-c", editorScript(t))
	cmd.Env = []string{"PATH=" + bin, "HOME=" + home, "SHELL=" + filepath.Join(bin, "usershell")}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "myed .\n") {
		t.Errorf("ran %q (%v), want myed from ~/.profile", out, err)
	}
}
