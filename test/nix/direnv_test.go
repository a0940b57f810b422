package nixtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/templates"
)

// TestEnvrcWithoutNix loads each template's .envrc with the real direnv the
// way a user without Nix gets it from `sysvm init`: `has nix` is false, so
// the Nix line is skipped; the loader line defines `use sysvm` from the
// sysvm on PATH (it is not installed in direnv's lib), and `use sysvm`
// exports the project and puts the helpers on PATH.
func TestEnvrcWithoutNix(t *testing.T) {
	f := setup(t)
	need(t, "direnv", "bash")
	home := t.TempDir()

	// A PATH with everything in /usr/bin and /bin except Nix, plus sysvm.
	bin := filepath.Join(home, "bin")
	os.Mkdir(bin, 0o755)
	for _, d := range []string{"/usr/local/bin", "/usr/bin", "/bin"} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "nix") {
				continue
			}
			os.Symlink(filepath.Join(d, e.Name()), filepath.Join(bin, e.Name())) // first one wins
		}
	}
	os.Symlink(f.sysvm, filepath.Join(bin, "sysvm"))
	env := []string{
		"PATH=" + bin, "HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"), "SYSVM_STATE_DIR=" + filepath.Join(home, "state"),
		"LIMA_HOME=" + filepath.Join(home, ".lima"), "DIRENV_LOG_FORMAT=direnv: %s",
	}
	for _, tmpl := range templates.ProjectTemplates {
		t.Run(tmpl, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "myapp")
			run(t, home, env, f.sysvm, "init", "--quiet", "--template", tmpl, dir)
			run(t, dir, env, "direnv", "allow", ".")
			cmd := exec.Command("direnv", "exec", ".", "sh", "-c", `echo "project=$SYSVM_PROJECT vm=$SYSVM_VM dir=$SYSVM_PROJECT_DIR"; command -v vm-shell`)
			cmd.Dir = dir
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("direnv exec: %v\n%s", err, out)
			}
			// direnv exec exits 0 even when .envrc fails: check the variables.
			want := "project=myapp vm=myapp-dev dir=" + dir
			if !strings.Contains(string(out), want) || !strings.Contains(string(out), "/vm-shell") {
				t.Errorf("after `use sysvm`, want %q and vm-shell on PATH; direnv said:\n%s", want, out)
			}
			if strings.Contains(string(out), "use_sysvm: command not found") || strings.Contains(string(out), "using nix") || strings.Contains(string(out), "using flake") {
				t.Errorf(".envrc did not load cleanly without Nix:\n%s", out)
			}
		})
	}
}
