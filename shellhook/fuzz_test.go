package shellhook

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzHook: for any sysvm path, bash, zsh and fish accept the hook, and
// sourcing it runs nothing: it only defines the hook, and the path it will
// run is exactly the given one.
func FuzzHook(f *testing.F) {
	f.Add(trickySelf)
	f.Add("/usr/bin/sysvm")
	f.Add("/x/$(touch CANARY)/`touch CANARY`/sysvm")
	f.Add("/x/'; touch CANARY; '/sysvm")
	f.Add("/x/\"; touch CANARY; \"/\\\\/\n/sysvm")
	f.Fuzz(func(t *testing.T, self string) {
		if !utf8.ValidString(self) || strings.ContainsRune(self, 0) || self == "" {
			t.Skip()
		}
		for _, name := range Names() {
			if _, err := exec.LookPath(name); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s is not installed", name)
				}
				continue
			}
			sh, _ := Lookup(name)
			text, err := sh.Hook(self)
			if err != nil {
				t.Fatal(err)
			}
			dir, home := t.TempDir(), privateDir(t)
			hook := filepath.Join(dir, "hook")
			os.WriteFile(hook, []byte(text), 0o644)
			var script string
			if name == "fish" {
				script = "source " + QuoteFish(hook) + "; printf '%s' $_sysvm_bin"
			} else {
				script = "source " + QuotePOSIX(hook) + "; printf '%s' \"$_sysvm_bin\""
			}
			cmd := exec.Command(name, "-c", script)
			cmd.Dir = dir
			// fish writes its config under HOME and its runtime files under
			// XDG_RUNTIME_DIR (else /tmp/fish.$USER).
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home, "XDG_RUNTIME_DIR=" + home}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s cannot source the hook for %q: %v", name, self, err)
			}
			if string(out) != self {
				t.Fatalf("%s: hook runs %q, want %q", name, out, self)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Fatalf("%s: sourcing the hook for %q ran something: %v", name, self, ents)
			}
		}
	})
}
