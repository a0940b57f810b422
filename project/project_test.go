package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/hint"
)

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResolveFindsRoot(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name   string
		marker string
		body   string
	}{
		{"sysvm.yaml", "sysvm.yaml", "cpus: 2\n"},
		{"lima config", ".lima/config.yaml", "vmType: qemu\n"},
		{"envrc", ".envrc", "use flake\nuse sysvm\n"},
		{"envrc with args", ".envrc", "  use sysvm --quiet\n"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(root, "p"+string(rune('a'+i)))
			write(t, filepath.Join(dir, tt.marker), tt.body)
			deep := filepath.Join(dir, "src", "pkg")
			os.MkdirAll(deep, 0o755)
			p, err := Resolve(deep, Options{LimaHome: "/h/.lima"})
			if err != nil {
				t.Fatal(err)
			}
			if p.Dir != dir {
				t.Errorf("Dir = %q, want %q", p.Dir, dir)
			}
			if p.VM != p.Slug+"-dev" || p.Session() != p.Slug {
				t.Errorf("names: slug %q vm %q session %q", p.Slug, p.VM, p.Session())
			}
		})
	}
}

func TestResolveEnvrcWithoutSysvmIsNotARoot(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".envrc"), "use flake\n# use sysvm someday\n")
	sub := filepath.Join(dir, "sub")
	os.MkdirAll(sub, 0o755)
	p, err := Resolve(sub, Options{LimaHome: "/h/.lima"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Dir != sub {
		t.Errorf("Dir = %q, want the given directory %q", p.Dir, sub)
	}
}

func TestResolveNameOverride(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "sysvm.yaml"), "name: web\n")
	p, err := Resolve(dir, Options{LimaHome: "/h/.lima"})
	if err != nil || p.Slug != "web" || p.VM != "web-dev" {
		t.Fatalf("got %+v, %v", p, err)
	}
	p, err = Resolve(dir, Options{Name: "api", LimaHome: "/h/.lima"})
	if err != nil || p.Slug != "api" {
		t.Fatalf("--name: got %+v, %v", p, err)
	}
	if _, err := Resolve(dir, Options{Name: "my api", LimaHome: "/h/.lima"}); err == nil {
		t.Error("want an error for an invalid --name")
	}
}

func TestResolveErrors(t *testing.T) {
	if _, err := Resolve("/does/not/exist", Options{}); err == nil {
		t.Error("want an error for a missing directory")
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "sysvm.yaml"), "cpus: [\n")
	if _, err := Resolve(dir, Options{}); err == nil {
		t.Error("want an error for a broken sysvm.yaml")
	}
	write(t, filepath.Join(dir, "sysvm.yaml"), "cpuz: 2\n")
	if _, err := Resolve(dir, Options{}); err == nil {
		t.Error("want an error for an unknown key (a typo)")
	}
}

func TestReadFileZellij(t *testing.T) {
	tests := []struct {
		name, body string
		want       Zellij
		noInstall  bool
		ok         bool
	}{
		{"absent", "cpus: 2\n", Zellij{}, false, true},
		{"mirror and path", "zellij:\n  url: http://127.0.0.1:9/z\n  path: /opt/zellij\n", Zellij{URL: "http://127.0.0.1:9/z", Path: "/opt/zellij"}, false, true},
		{"install off", "zellij:\n  install: false\n", Zellij{Install: new(false)}, true, true},
		{"install on", "zellij:\n  install: true\n", Zellij{Install: new(true)}, false, true},
		// A misspelt key must not silently turn into a default.
		{"unknown key", "zellij:\n  instal: false\n", Zellij{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile([]byte(tt.body), "sysvm.yaml")
			if (err == nil) != tt.ok {
				t.Fatalf("ReadFile error = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if f.Zellij.Path != tt.want.Path || f.Zellij.URL != tt.want.URL || f.Zellij.NoInstall() != tt.noInstall ||
				(f.Zellij.Install == nil) != (tt.want.Install == nil) {
				t.Fatalf("Zellij = %+v, want %+v (no install %v)", f.Zellij, tt.want, tt.noInstall)
			}
		})
	}
}

func TestZellijSettingsChecked(t *testing.T) {
	for body, want := range map[string]string{
		"zellij: {url: 'http://mirror.example/z'}":           "plain http://",
		"zellij: {url: 'ftp://mirror.example/z'}":            "not an https:// URL",
		"zellij: {url: 'mirror.example'}":                    "not a URL",
		"zellij: {sha256: abc}":                              "not a sha256",
		"zellij: {url: 'https://mirror.example/z'}":          "",
		"zellij: {url: 'http://127.0.0.1:8080/z'}":           "",
		"zellij: {url: 'http://[::1]/z'}":                    "",
		"zellij: {url: 'http://localhost/z'}":                "",
		"zellij: {sha256: " + strings.Repeat("AB", 32) + "}": "",
	} {
		f, err := ParseFile([]byte(body+"\n"), FileName)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", body, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || len(hint.Of(err)) == 0):
			t.Errorf("%s: error %v, want %q with a hint", body, err, want)
		case want == "" && f.Zellij.SHA256 != "" && f.Zellij.SHA256 != strings.Repeat("ab", 32):
			t.Errorf("%s: sha256 %q not lowercased", body, f.Zellij.SHA256)
		}
	}
}
