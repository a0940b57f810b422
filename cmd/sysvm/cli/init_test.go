package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestMain lets the race test run this test binary as sysvm itself.
func TestMain(m *testing.M) {
	if os.Getenv("SYSVM_TEST_RUN_AS_SYSVM") == "1" {
		os.Exit(Main())
	}
	os.Exit(m.Run())
}

// runInit runs `sysvm args...` in-process and returns its exit code and stdout.
func runInit(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	errf, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	stateDir := t.TempDir()
	app := &App{Out: &out, ErrOut: errf, Getenv: func(k string) string {
		if k == "SYSVM_STATE_DIR" {
			return stateDir
		}
		return ""
	}}
	code := app.Run(args)
	stderr, _ := os.ReadFile(errf.Name())
	if code != 0 {
		t.Logf("sysvm %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, stderr)
	}
	return code, out.String()
}

// templateFiles returns the template's files by slash path.
func templateFiles(t *testing.T, tmpl string) map[string]string {
	t.Helper()
	files := map[string]string{}
	sub, err := fs.Sub(templates.Projects, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("template %s is empty in the embed", tmpl)
	}
	return files
}

// dirListing renders every file under dir (path, mode, contents) and fails
// on leftovers such as temporary files.
func dirListing(t *testing.T, dir string) (string, map[string]string) {
	t.Helper()
	files := map[string]string{}
	var b strings.Builder
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		st, _ := os.Stat(p)
		c, _ := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(c)
		fmt.Fprintf(&b, "==== %s (%v)\n%s", filepath.ToSlash(rel), st.Mode().Perm(), c)
	}
	return b.String(), files
}

func TestInitGolden(t *testing.T) {
	for _, tmpl := range templates.ProjectTemplates {
		t.Run(tmpl, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "myapp")
			code, out := runInit(t, "init", "--template", tmpl, dir)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			listing, files := dirListing(t, dir)
			got := "$ sysvm init --template " + tmpl + " DIR\n" +
				strings.ReplaceAll(out, dir, "DIR") + "\n" + listing

			// Whatever the golden says, the files are the embedded template.
			want := templateFiles(t, tmpl)
			if len(files) != len(want) {
				t.Errorf("wrote %d files, the template has %d", len(files), len(want))
			}
			for p, c := range want {
				if files[p] != c {
					t.Errorf("%s differs from the template", p)
				}
			}

			golden := filepath.Join("testdata", "init-"+tmpl+".golden")
			if *update {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(golden, []byte(got), 0o644)
			}
			wantOut, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update)", err)
			}
			if got != string(wantOut) {
				t.Errorf("output and files differ from %s (go test -update to accept):\n%s", golden, got)
			}
		})
	}
}

func TestInitKeepsExistingFiles(t *testing.T) {
	gitignore := templateFiles(t, "vm-dev")[".gitignore"]
	tests := []struct {
		name     string
		args     []string
		existing map[string]string
		// want holds the expected contents of files after init; "" = the template's.
		want    map[string]string
		wantOut []string
	}{
		{
			name:     "a different shell.nix is kept",
			existing: map[string]string{"shell.nix": "{ pkgs }: pkgs.mkShell { }\n"},
			want:     map[string]string{"shell.nix": "{ pkgs }: pkgs.mkShell { }\n", "flake.nix": ""},
			wantOut:  []string{"kept      shell.nix (yours differs from the template)", "wrote     flake.nix"},
		},
		{
			name:     "missing .gitignore lines are added once",
			existing: map[string]string{".gitignore": "node_modules\n/.direnv\n"},
			want:     map[string]string{".gitignore": "node_modules\n/.direnv\n# sysvm\n.lima/\nresult\nresult-*\n"},
			wantOut:  []string{"added     .gitignore (.lima/ result result-*)"},
		},
		{
			name:     "a .gitignore without a final newline gets one first",
			existing: map[string]string{".gitignore": ".lima\nresult\nresult-*"},
			want:     map[string]string{".gitignore": ".lima\nresult\nresult-*\n# sysvm\n.direnv/\n"},
		},
		{
			name:     "a .gitignore with every line is unchanged",
			existing: map[string]string{".gitignore": "*.o\n" + gitignore},
			want:     map[string]string{".gitignore": "*.o\n" + gitignore},
			wantOut:  []string{"unchanged .gitignore"},
		},
		{
			name:     "an .envrc without use sysvm is left alone without --force",
			existing: map[string]string{".envrc": "use flake\n"},
			want:     map[string]string{".envrc": "use flake\n"},
			wantOut:  []string{"skipped   .envrc", "sysvm init --force", "  use sysvm\n"},
		},
		{
			name:     "--force appends use sysvm to an .envrc",
			args:     []string{"--force"},
			existing: map[string]string{".envrc": "use flake"},
			want:     map[string]string{".envrc": "use flake\n\n# sysvm: the project's own VM and Zellij session\n" + templates.EnvrcLoader},
			wantOut:  []string{"added     .envrc (use sysvm)"},
		},
		{
			name:     "--force leaves an .envrc that uses sysvm alone",
			args:     []string{"--force"},
			existing: map[string]string{".envrc": "dotenv\n  use sysvm --up\n"},
			want:     map[string]string{".envrc": "dotenv\n  use sysvm --up\n"},
			wantOut:  []string{"kept      .envrc (it already says `use sysvm`)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, c := range tt.existing {
				if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for run := 1; run <= 2; run++ { // a second run changes nothing more
				code, out := runInit(t, append(append([]string{"init"}, tt.args...), dir)...)
				if code != 0 {
					t.Fatalf("run %d: exit %d", run, code)
				}
				if run == 1 {
					for _, w := range tt.wantOut {
						if !strings.Contains(out, w) {
							t.Errorf("output lacks %q:\n%s", w, out)
						}
					}
				}
				tmpl := templateFiles(t, "vm-dev")
				for p, w := range tt.want {
					if w == "" {
						w = tmpl[p]
					}
					got, _ := os.ReadFile(filepath.Join(dir, p))
					if string(got) != w {
						t.Errorf("run %d: %s is\n%q\nwant\n%q", run, p, got, w)
					}
				}
				for p := range tt.existing {
					if st, _ := os.Stat(filepath.Join(dir, p)); st.Mode().Perm() != 0o600 {
						t.Errorf("%s: mode changed to %v", p, st.Mode().Perm())
					}
				}
			}
		})
	}
}

// TestInitRace runs many inits at once in one directory, in goroutines and in
// separate processes. Every file must end up whole, .gitignore and .envrc
// must gain each line exactly once, and no temporary file may be left.
func TestInitRace(t *testing.T) {
	const existingIgnore = "node_modules\n"
	const existingEnvrc = "export FOO=1\n"
	check := func(t *testing.T, dir, tmpl string, seeded bool) {
		t.Helper()
		_, files := dirListing(t, dir)
		want := templateFiles(t, tmpl)
		for p := range files {
			if _, ok := want[p]; !ok {
				t.Errorf("stray file %s", p)
			}
		}
		for p, c := range want {
			switch {
			case seeded && p == ".gitignore":
				c = existingIgnore + appended(c)
			case seeded && p == ".envrc":
				c = existingEnvrc + "\n# sysvm: the project's own VM and Zellij session\n" + templates.EnvrcLoader
			}
			if files[p] != c {
				t.Errorf("%s is\n%q\nwant\n%q", p, files[p], c)
			}
		}
	}
	seed := func(t *testing.T, dir string) {
		os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(existingIgnore), 0o644)
		os.WriteFile(filepath.Join(dir, ".envrc"), []byte(existingEnvrc), 0o644)
	}

	t.Run("goroutines", func(t *testing.T) {
		for round := 0; round < 20; round++ {
			for _, seeded := range []bool{false, true} {
				dir := t.TempDir()
				if seeded {
					seed(t, dir)
				}
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make(chan error, 8)
				for i := 0; i < 8; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if _, err := templates.Init(dir, "vm-custom", true); err != nil {
							errs <- err
						}
					}()
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				check(t, dir, "vm-custom", seeded)
			}
		}
	})

	t.Run("processes", func(t *testing.T) {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 4; round++ {
			for _, seeded := range []bool{false, true} {
				dir := t.TempDir()
				if seeded {
					seed(t, dir)
				}
				var cmds []*exec.Cmd
				for i := 0; i < 6; i++ {
					cmd := exec.Command(self, "init", "--force", "--quiet", "--template", "vm-dev", dir)
					cmd.Env = append(os.Environ(), "SYSVM_TEST_RUN_AS_SYSVM=1")
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					cmds = append(cmds, cmd)
					defer func() {
						if stderr.Len() > 0 {
							t.Logf("stderr: %s", stderr.String())
						}
					}()
				}
				for _, c := range cmds {
					if err := c.Wait(); err != nil {
						t.Errorf("sysvm init: %v", err)
					}
				}
				check(t, dir, "vm-dev", seeded)
			}
		}
	})
}

func TestInitUsage(t *testing.T) {
	if code, _ := runInit(t, "init", "--template", "vm-bogus", t.TempDir()); code != ExitUsage {
		t.Errorf("unknown template: exit %d, want %d", code, ExitUsage)
	}
	if code, _ := runInit(t, "init", "a", "b"); code != ExitUsage {
		t.Errorf("two directories: exit %d, want %d", code, ExitUsage)
	}
	dir := filepath.Join(t.TempDir(), "new", "project")
	if code, _ := runInit(t, "init", "--template", "vm-minimal", dir); code != 0 {
		t.Fatalf("a new directory: exit %d", code)
	}
	if !project.EnvrcUsesSysvm(filepath.Join(dir, ".envrc")) {
		t.Error("init did not create the directory with its .envrc")
	}
}

// appended is what init adds to a .gitignore that holds none of the
// template's patterns: a header and each pattern.
func appended(template string) string {
	var pats []string
	for _, l := range strings.Split(template, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			pats = append(pats, l)
		}
	}
	return "# sysvm\n" + strings.Join(pats, "\n") + "\n"
}
