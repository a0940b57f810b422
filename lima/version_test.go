package lima

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		err  bool
	}{
		{in: "limactl version 1.2.2\n", want: Version{Major: 1, Minor: 2, Patch: 2}},
		{in: "limactl version 2.2.0", want: Version{Major: 2, Minor: 2}},
		{in: "v2.0.0", want: Version{Major: 2}},                                                                // the lima-version file's form
		{in: "2.3.0-beta.0", want: Version{Major: 2, Minor: 3, Pre: "beta.0"}},                                 // pre-releases
		{in: "2.2.0-12-gabcdef0", want: Version{Major: 2, Minor: 2, Pre: "12-gabcdef0"}},                       // git-describe builds
		{in: "limactl version <unknown>", want: Version{Dev: true}},                                            // unversioned builds
		{in: "limactl version 2.2.0.m", want: Version{Major: 2, Minor: 2, Raw: "2.2.0.m"}},                     // a tree with local changes
		{in: "limactl version 2.2.0-153-g183a60d7", want: Version{Major: 2, Minor: 2, Pre: "153-g183a60d7"}},   // git describe
		{in: "limactl version 0.19.1-16-gf3dc6ed.m", want: Version{Minor: 19, Patch: 1, Pre: "16-gf3dc6ed.m"}}, // Lima's own example
		{in: "limactl version 183a60d7", want: Version{Dev: true, Raw: "183a60d7"}},                            // a bare hash: newest
		{in: "limactl version 2.2", want: Version{Dev: true, Raw: "2.2"}},                                      // not X.Y.Z: newest
		{in: "lima 2.x.0", want: Version{Dev: true, Raw: "lima 2.x.0"}},                                        // garbage: newest
		{in: "", err: true},
	} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseVersion(%q) = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	v := func(s string) Version {
		x, err := ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.2.2", "2.0.0", -1},
		{"2.1.0", "2.0.3", 1},
		{"2.2.0", "2.2.0", 0},
		{"2.2.0-rc.0", "2.2.0", 0}, // suffixes do not order
		{"<unknown>", "2.2.0", 1},  // a dev build counts as the newest
		{"0.23.2", "1.0.0", -1},
		{"2.2.0.m", "2.2.0", 0},
		{"2.1.4-3-gabcdef0.m", "2.2.0", -1},
		{"183a60d7", "2.2.0", 1}, // unparsable counts as the newest, as in Lima
	} {
		if got := v(tc.a).Compare(v(tc.b)); got != tc.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if !v("2.0.0").AtLeast(2, 0) || v("1.2.2").AtLeast(2, 0) || !v("2.1.4").AtLeast(2, 1) {
		t.Error("AtLeast")
	}
}

// countingLimactl writes a limactl that prints `limactl version ver` and
// appends a line to runs for every run.
func countingLimactl(t *testing.T, dir, ver string) (exe, runs string) {
	t.Helper()
	exe = filepath.Join(dir, "limactl")
	runs = filepath.Join(dir, "runs")
	script := "#!/bin/sh\necho \"$*\" >>" + runs + "\necho 'limactl version " + ver + "'\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe, runs
}

func countRuns(t *testing.T, runs string) int {
	b, err := os.ReadFile(runs)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func TestVersionCache(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	exe, runs := countingLimactl(t, dir, "2.2.0")
	ctx := context.Background()

	first := &Client{Exe: exe, CacheDir: cache}
	for range 2 {
		if v, err := first.Version(ctx); err != nil || v.String() != "2.2.0" {
			t.Fatalf("Version = %v, %v", v, err)
		}
	}
	if n := countRuns(t, runs); n != 1 {
		t.Fatalf("first client ran limactl %d times, want 1", n)
	}
	// A second process (a fresh Client) pays no exec.
	if v, err := (&Client{Exe: exe, CacheDir: cache}).Version(ctx); err != nil || v.String() != "2.2.0" {
		t.Fatalf("cached Version = %v, %v", v, err)
	}
	if n := countRuns(t, runs); n != 1 {
		t.Errorf("a second client ran limactl again (%d runs): the cache was not used", n)
	}
	// An upgraded binary (other size) is asked again.
	exe2, _ := countingLimactl(t, dir, "2.10.0")
	if v, err := (&Client{Exe: exe2, CacheDir: cache}).Version(ctx); err != nil || v.String() != "2.10.0" {
		t.Errorf("after an upgrade Version = %v, %v; want 2.10.0", v, err)
	}
	if n := countRuns(t, runs); n != 2 {
		t.Errorf("runs after the upgrade = %d, want 2", n)
	}
}

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		ver    string
		tooOld bool
	}{{"0.23.2", true}, {"1.0.0", false}, {"1.2.2", false}, {"2.2.0", false}} {
		exe, _ := countingLimactl(t, t.TempDir(), tc.ver)
		_, err := (&Client{Exe: exe}).CheckVersion(context.Background())
		var old *TooOldError
		if errors.As(err, &old) != tc.tooOld || tc.tooOld && !strings.Contains(err.Error(), "Lima "+tc.ver+", but sysvm needs Lima 1.0.0") {
			t.Errorf("CheckVersion with %s: %v", tc.ver, err)
		}
	}
}

// TestStartProgress: --progress goes to limactl only from Lima 2.0, and
// only for a config whose cloud-init Lima watches: not for a plain one
// (from sysvm.yaml's lima: overlay or an edited config), where limactl
// start would wait out its whole timeout.
func TestStartProgress(t *testing.T) {
	for _, tc := range []struct {
		ver, config string
		create      bool
		want        bool
	}{
		{ver: "1.2.2", config: "cpus: 2\n", want: false},
		{ver: "2.0.0", config: "cpus: 2\n", want: true},
		{ver: "2.2.0", config: "cpus: 2\n", want: true},
		{ver: "2.2.0", config: "cpus: 2\n", create: true, want: true},
		{ver: "2.2.0", config: "plain: true\n", want: false},
		{ver: "2.2.0", config: "plain: true\n", create: true, want: false},
		{ver: "2.2.0", config: "plain: false\nos: Linux\n", want: true},
		{ver: "2.2.0", config: "os: Darwin\n", want: false},
	} {
		dir := t.TempDir()
		exe, runs := countingLimactl(t, dir, tc.ver)
		home := filepath.Join(dir, "home")
		c := &Client{Exe: exe, Home: home}
		o := StartOptions{Progress: true}
		path := filepath.Join(home, "p", "lima.yaml")
		if tc.create {
			path = filepath.Join(dir, "new.yaml")
			o.ConfigFile = path
		}
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(tc.config), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background(), "p", o); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(runs)
		if got := strings.Contains(string(b), "start --tty=false --progress "); got != tc.want {
			t.Errorf("Lima %s, %q (create %v): --progress passed = %v, want %v; runs:\n%s", tc.ver, tc.config, tc.create, got, tc.want, b)
		}
	}
}
