package scaffold_test

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

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/scaffold"
	"github.com/sysvm/sysvm/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestMain lets the race test run this test binary as `sysvm init --force
// --template vm-dev DIR`, DIR in SCAFFOLD_TEST_INIT.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SCAFFOLD_TEST_INIT"); dir != "" {
		if err := scaffold.Run(dir, scaffold.Options{Template: "vm-dev", Force: true}); err != nil {
			fmt.Fprintln(os.Stderr, "sysvm init:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runInit runs `sysvm init` with the template, --force when force, in dir,
// and returns its report; the steering files it allows go to *allowed
// when allowed is not nil.
func runInit(t *testing.T, dir, tmpl string, force bool, allowed *map[string][]byte) string {
	t.Helper()
	var out bytes.Buffer
	o := scaffold.Options{Template: tmpl, Force: force, Report: &out}
	o.Allow = func(d string, files map[string][]byte) error {
		if d != dir {
			t.Errorf("Allow for %s, want %s", d, dir)
		}
		if allowed != nil {
			*allowed = files
		}
		return nil
	}
	if err := scaffold.Run(dir, o); err != nil {
		t.Fatalf("sysvm init --template %s %s: %v", tmpl, dir, err)
	}
	return out.String()
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
	for _, tmpl := range scaffold.Templates() {
		t.Run(tmpl, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "myapp")
			var allowed map[string][]byte
			out := runInit(t, dir, tmpl, false, &allowed)
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
			// What steers sysvm is allowed as written, and nothing else.
			for p, c := range want {
				_, ok := allowed[p]
				if steers := p == project.FileName || p == project.LayoutFile; steers != ok || (ok && string(allowed[p]) != c) {
					t.Errorf("%s: allowed %v (%q), want allowed only if it steers sysvm", p, ok, allowed[p])
				}
			}
			if len(allowed) > len(want) {
				t.Errorf("allowed files the template lacks: %v", allowed)
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
		force    bool
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
			force:    true,
			existing: map[string]string{".envrc": "use flake"},
			want:     map[string]string{".envrc": "use flake\n\n# sysvm: the project's own VM and Zellij session\n" + scaffold.EnvrcLoader},
			wantOut:  []string{"added     .envrc (use sysvm)"},
		},
		{
			name:     "--force leaves an .envrc that uses sysvm alone",
			force:    true,
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
				out := runInit(t, dir, "vm-dev", tt.force, nil)
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
				c = existingEnvrc + "\n# sysvm: the project's own VM and Zellij session\n" + scaffold.EnvrcLoader
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
						if _, err := scaffold.Init(dir, "vm-custom", true); err != nil {
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
					cmd := exec.Command(self)
					cmd.Env = append(os.Environ(), "SCAFFOLD_TEST_INIT="+dir)
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

// An unknown template is a usage error; a directory that does not exist
// is created with the template's files.
func TestInitUsage(t *testing.T) {
	if err := scaffold.Run(t.TempDir(), scaffold.Options{Template: "vm-bogus"}); !hint.IsUsage(err) {
		t.Errorf("unknown template: %v, want a usage error", err)
	}
	dir := filepath.Join(t.TempDir(), "new", "project")
	runInit(t, dir, "vm-minimal", false, nil)
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
