package project

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/hint"
)

// TestSlugOfASharedBaseName: two directories with one base name never get
// one VM; the directory that took the bare name first keeps it.
func TestSlugOfASharedBaseName(t *testing.T) {
	// Real directories: loading a project checks every directory above it.
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const home = "/h/.lima"
	work, oss, upper := filepath.Join(root, "work", "api"), filepath.Join(root, "oss", "api"), filepath.Join(root, "oss", "API")
	for _, d := range []string{work, oss, upper} {
		mkdir(t, d, 0o755)
	}
	hashed := "api-" + PathHash(oss)
	tests := []struct {
		name   string
		owners map[string]string // VM -> the directory it belongs to
		dir    string
		want   string
	}{
		{"nobody's", nil, oss, "api"},
		{"its own", map[string]string{"api-dev": oss}, oss, "api"},
		{"another directory's", map[string]string{"api-dev": work}, oss, hashed},
		{"another directory that is gone", map[string]string{"api-dev": "/gone/api"}, oss, hashed},
		{"the first keeps it", map[string]string{"api-dev": work, hashed + "-dev": oss}, work, "api"},
		{"hashed stays hashed when the bare name is free again", map[string]string{hashed + "-dev": oss}, oss, hashed},
		{"hashed of another directory does not count", map[string]string{"api-" + PathHash(work) + "-dev": work}, oss, "api"},
		{"an invalid name is hashed anyway", map[string]string{"api-dev": work}, upper, "api-" + PathHash(upper)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner := func(vm, dir string) string {
				if dir != tt.dir {
					t.Errorf("Owner asked for %q, want %q", dir, tt.dir)
				}
				return tt.owners[vm]
			}
			p, err := Load(tt.dir, Options{LimaHome: home, Owner: owner})
			if err != nil {
				t.Fatal(err)
			}
			if p.Slug != tt.want || p.VM != tt.want+VMSuffix {
				t.Errorf("slug, VM = %q, %q; want %q", p.Slug, p.VM, tt.want)
			}
		})
	}
}

// TestChosenNameOfAnotherDirectory: a name from --name or sysvm.yaml whose VM
// is another directory's is refused, naming that directory, with hints.
func TestChosenNameOfAnotherDirectory(t *testing.T) {
	dir := t.TempDir()
	other := "/home/u/work/api"
	owners := map[string]string{"api-dev": other, "mine-dev": dir}
	owner := func(vm, _ string) string { return owners[vm] }
	tests := []struct {
		name, file, flag string
		want             string // "" for no error, else a part of it
	}{
		{"--name of another's VM", "", "api", "(--name) is taken: its VM api-dev belongs to " + other},
		{"name: of another's VM", "name: api\n", "", "(name: in " + filepath.Join(dir, FileName) + ") is taken"},
		{"--name over a good name:", "name: mine\n", "api", "(--name) is taken"},
		{"its own VM", "name: mine\n", "", ""},
		{"nobody's VM", "", "fresh", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(t, filepath.Join(dir, FileName), tt.file)
			p, err := Load(dir, Options{Name: tt.flag, LimaHome: "/h/.lima", Owner: owner})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.want == "":
				return
			case err == nil:
				t.Fatalf("Load = %+v, want an error", p)
			case !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
			var h hint.Hinter
			if !errors.As(err, &h) || len(h.Hints()) < 2 || !strings.Contains(strings.Join(h.Hints(), "\n"), "cd "+other+" && sysvm destroy") {
				t.Errorf("hints = %q", hint.Of(err))
			}
		})
	}
}
