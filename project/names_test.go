package project

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var zellijNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func TestSlug(t *testing.T) {
	const home = "/home/alice/.lima"
	long := strings.Repeat("a", 200)
	tests := []struct {
		dir      string
		want     string // exact slug, or "" to only check the prefix
		prefix   string // expected start of a changed name
		wantHash bool
	}{
		{dir: "/p/myapp", want: "myapp"},
		{dir: "/p/my-app.v2", want: "my-app.v2"},
		{dir: "/p/2048", want: "2048"},                            // leading digits are fine for Lima
		{dir: "/p/My App", prefix: "my-app-", wantHash: true},     // space and case
		{dir: "/p/My App ü", prefix: "my-app-u-", wantHash: true}, // unicode folds to ASCII
		{dir: "/p/日本語", prefix: "project-", wantHash: true},       // nothing ASCII left
		{dir: "/p/MyApp", prefix: "myapp-", wantHash: true},       // case alone is a change
		{dir: "/p/x.yaml", prefix: "x-yaml-", wantHash: true},     // Lima rejects the .yaml suffix
		{dir: "/p/X.YML", prefix: "x-yml-", wantHash: true},       // case-insensitively
		{dir: "/p/-", prefix: "project-", wantHash: true},         // no letters at all
		{dir: "/p/.", prefix: "project-", wantHash: true},         // a dot
		{dir: "/p/.hidden", prefix: "hidden-", wantHash: true},    // leading separator
		{dir: "/p/a..b", prefix: "a-b-", wantHash: true},          // doubled separator
		{dir: "/p/" + long, prefix: "aaaaaaaa", wantHash: true},   // 200 characters
		{dir: "/p/it's \"quoted\" $HOME", prefix: "it-s-quoted-home-", wantHash: true},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.dir), func(t *testing.T) {
			got, err := Slug(tt.dir, home)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Slug(tt.dir, home)
			if got != again {
				t.Errorf("not stable: %q then %q", got, again)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("Slug(%q) = %q, want %q", tt.dir, got, tt.want)
			}
			if tt.prefix != "" && !strings.HasPrefix(got, tt.prefix) {
				t.Errorf("Slug(%q) = %q, want prefix %q", tt.dir, got, tt.prefix)
			}
			if tt.wantHash && !strings.HasSuffix(got, "-"+PathHash(tt.dir)) {
				t.Errorf("Slug(%q) = %q, want the path hash %s", tt.dir, got, PathHash(tt.dir))
			}
			checkNames(t, got, home)
			if other, dup := seen[got]; dup {
				t.Errorf("%q and %q share the slug %q", other, tt.dir, got)
			}
			seen[got] = tt.dir
		})
	}
}

// checkNames asserts the Lima and Zellij rules the slug must satisfy.
func checkNames(t *testing.T, slug, home string) {
	t.Helper()
	vm := slug + VMSuffix
	if !limaNameRE.MatchString(vm) || len(vm) > MaxLimaName || hasYAMLSuffix(vm) {
		t.Errorf("VM name %q is not a valid Lima instance name", vm)
	}
	// Lima's longest socket: ssh.sock and OpenSSH's temporary suffix.
	if sock := home + "/" + vm + "/ssh.sock.1234567890123456"; len(sock) >= macOSSockMax {
		t.Errorf("socket path %q is %d bytes, want < %d", sock, len(sock), macOSSockMax)
	}
	if !zellijNameRE.MatchString(slug) || slug == "." || slug == ".." {
		t.Errorf("session name %q is not a safe Zellij session name", slug)
	}
	if sock := zellijSockDirWorst + "/" + slug; len(sock) > zellijSockMax {
		t.Errorf("zellij socket %q is %d bytes, want <= %d", sock, len(sock), zellijSockMax)
	}
}

func TestSlugDistinctForSameBaseName(t *testing.T) {
	a, _ := Slug("/one/My App", "/h/.lima")
	b, _ := Slug("/two/My App", "/h/.lima")
	if a == b {
		t.Fatalf("two directories share %q", a)
	}
}

func TestSlugLongLimaHome(t *testing.T) {
	home := "/Users/alice/Library/Application Support/lima"
	got, err := Slug("/p/a-fairly-long-project-directory-name-here", home)
	if err != nil {
		t.Fatal(err)
	}
	checkNames(t, got, home)
	if _, err := Slug("/p/x", "/"+strings.Repeat("d", 90)); err == nil {
		t.Error("want an error when LIMA_HOME leaves no room for a name")
	}
}

func TestValidateName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"web", true}, {"web-2", true}, {"Web", true},
		{"", false}, {"my app", false}, {"a..b", false}, {"x.yaml", false}, {"-x", false},
		{strings.Repeat("a", 70), false},
	} {
		err := ValidateName(tt.name, "/home/u/.lima")
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
