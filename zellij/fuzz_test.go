package zellij

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzCommandLine: for any project path, session name, layout path and env
// value, the guest's shell runs exactly the intended argv in the intended
// directory with the intended variable — checked in a real sh.
func FuzzCommandLine(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, "web", "/l/"+s, s)
	}
	f.Add("a'b\\c", "$(id)", "`x`", "\n;|&")
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, dirName, session, layout, envVal string) {
		for _, s := range []string{dirName, session, layout, envVal} {
			if strings.ContainsRune(s, 0) {
				t.Skip() // argv and env cannot carry NUL
			}
		}
		if strings.ContainsRune(dirName, '/') || dirName == "" || dirName == "." || dirName == ".." || len(dirName) > 200 {
			t.Skip()
		}
		dir := filepath.Join(root, dirName)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Skip()
		}
		argv := append([]string{"sh", "-c", `printf '%s\0' "$PWD" "$PROJECT_NAME" "$@"`, "sh"}, AttachArgv("zellij", layout, session)...)
		c := Command{Dir: dir, Env: map[string]string{"PROJECT_NAME": envVal}, Argv: argv}
		got := runInShell(t, "sh", c.Line())
		want := append([]string{dir, envVal}, AttachArgv("zellij", layout, session)...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line %q\nran %q\nwant %q", c.Line(), got, want)
		}
	})
}
