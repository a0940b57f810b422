package project

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSlug: for any directory name, the slug is a valid Lima instance name
// and Zellij session name within the socket-path limits, stable, and
// distinct from the slug of a sibling directory with another name.
func FuzzSlug(f *testing.F) {
	for _, s := range []string{"myapp", "My App ü", "x.yaml", "-", ".", "..", "日本語", strings.Repeat("a", 200),
		"a..b", "it's \"q\" $x", "\x00\xff", "UPPER", "2048", "a b\tc\nd"} {
		f.Add(s, "/home/alice/.lima")
	}
	f.Fuzz(func(t *testing.T, name, home string) {
		if strings.ContainsRune(name, '/') || name == "" || !filepath.IsAbs(home) || len(home) > 40 || !utf8.ValidString(home) {
			t.Skip()
		}
		dir := "/projects/" + name
		slug, err := Slug(dir, home)
		if err != nil {
			t.Fatalf("Slug(%q, %q): %v", dir, home, err)
		}
		checkNames(t, slug, home)
		if again, _ := Slug(dir, home); again != slug {
			t.Fatalf("unstable: %q then %q", slug, again)
		}
		other := "/projects/" + name + "x"
		if s2, _ := Slug(other, home); s2 == slug {
			t.Fatalf("%q and %q share %q", dir, other, slug)
		}
	})
}
