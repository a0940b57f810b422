package release

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sysvm/sysvm/ui/uitest"
	"github.com/sysvm/sysvm/zellij"
	"github.com/sysvm/sysvm/zellij/release/releasetest"
)

// standIn is the "release binary" the tests serve: a script the guest can
// run, which reports the pinned version.
var standIn = []byte("#!/bin/sh\necho 'zellij " + Version + "'\n")

// shGuest is a guest made of a real shell: each command line runs with
// `sh -c` in a private HOME with a private bin directory first on PATH, so
// the quoting of every remote command is exercised for real.
type shGuest struct {
	home, bin string
	calls     int
	// mangle, when set, rewrites what is sent on stdin (a broken link).
	mangle func([]byte) []byte
}

func newGuest(t *testing.T) *shGuest {
	g := &shGuest{home: t.TempDir()}
	g.bin = filepath.Join(g.home, "userbin")
	if err := os.Mkdir(g.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *shGuest) Output(ctx context.Context, line string, stdin io.Reader) ([]byte, []byte, int, error) {
	g.calls++
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	cmd.Dir = g.home
	cmd.Env = []string{"HOME=" + g.home, "PATH=" + g.bin + ":/usr/bin:/bin"}
	if stdin != nil && g.mangle != nil {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, nil, -1, err
		}
		stdin = bytes.NewReader(g.mangle(b))
	}
	return releasetest.Output(cmd, stdin)
}

// script puts an executable into the guest's own bin directory.
func (g *shGuest) script(t *testing.T, name, body string) string {
	p := filepath.Join(g.bin, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// installed lists sysvm's install directory in the guest, temporaries
// included.
func (g *shGuest) installed(t *testing.T) []string {
	ents, err := os.ReadDir(filepath.Join(g.home, ".local", "share", "sysvm", "bin"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func newCache(t *testing.T, srv *releasetest.Server) *Cache {
	root := t.TempDir()
	return &Cache{Dir: filepath.Join(root, "cache"), Digests: filepath.Join(root, "state", "zellij-digests.json"), Base: srv.URL}
}

func newServer(t *testing.T) *releasetest.Server {
	srv := releasetest.NewServer(standIn)
	t.Cleanup(srv.Close)
	return srv
}

// hostTarget is the target of the machine the tests run on, which is the
// shell guest's machine too.
func hostTarget(t *testing.T) string {
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	target, err := Target(strings.TrimSpace(string(out)))
	if err != nil {
		t.Skip(err)
	}
	return target
}

// cacheFiles lists everything in the asset's cache directory.
func cacheFiles(t *testing.T, c *Cache, target string) []string {
	ents, err := os.ReadDir(c.AssetDir(target))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestEnsureInstallsOnceAndReusesTheCache(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	u, _, _, progress := uitest.New()
	c.UI = u
	ctx := context.Background()

	first := newGuest(t)
	z, err := Ensure(ctx, first, c, Options{VM: "a-dev"})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(first.home, ".local", "share", "sysvm", "bin", "zellij-"+Version)
	if z != (Zellij{Path: want, Version: Version, Installed: true}) {
		t.Fatalf("Ensure = %+v, want the pinned zellij installed at %s", z, want)
	}
	fi, err := os.Stat(want)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("installed file: %v, %v; want mode 0755", fi, err)
	}
	if out, err := exec.Command(want, "--version").Output(); err != nil || string(out) != "zellij "+Version+"\n" {
		t.Fatalf("running the installed zellij: %q, %v", out, err)
	}
	if first.calls != 2 || srv.TarballRequests() != 1 {
		t.Fatalf("cold install: %d remote commands and %d downloads, want 2 and 1", first.calls, srv.TarballRequests())
	}
	if !strings.Contains(progress.String(), "sysvm: downloaded ") {
		t.Errorf("no progress reported: %q", progress.String())
	}

	// Warm: one remote command, nothing downloaded.
	first.calls = 0
	if z2, err := Ensure(ctx, first, c, Options{VM: "a-dev"}); err != nil || z2 != z {
		t.Fatalf("second Ensure = %+v, %v; want %+v", z2, err, z)
	}
	if first.calls != 1 || srv.TarballRequests() != 1 {
		t.Fatalf("warm path: %d remote commands and %d downloads, want 1 and still 1", first.calls, srv.TarballRequests())
	}

	// A second VM is served from the cache: copied, not downloaded.
	second := newGuest(t)
	if _, err := Ensure(ctx, second, c, Options{VM: "b-dev"}); err != nil {
		t.Fatal(err)
	}
	if second.calls != 2 || srv.Requests("") != 2 {
		t.Fatalf("second VM: %d remote commands and %d requests, want 2 and still 2 (one .sha256sum, one tarball)", second.calls, srv.Requests(""))
	}
}

func TestFetchConcurrentDownloadsOnce(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	target := releasetest.Targets[0]
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Fetch(context.Background(), target)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.TarballRequests(); n != 1 {
		t.Fatalf("8 concurrent fetches downloaded %d times, want 1", n)
	}
}

// TestBadReleases checks that each broken release is refused with its own
// error and leaves no cache entry and no file in the guest.
func TestBadReleases(t *testing.T) {
	tests := []struct {
		name  string
		fault releasetest.Fault
		down  bool
		check func(error) bool
	}{
		{"binary does not match its .sha256sum", releasetest.BadSum, false, is[*VerifyError]},
		{".sha256sum changed since recorded", releasetest.Rebuilt, false, is[*ChangedError]},
		{"server closes mid-body", releasetest.Truncated, false, is[*FetchError]},
		{"tarball without zellij", releasetest.NoZellij, false, is[*ArchiveError]},
		{"asset not found", releasetest.NotFound, false, is[*FetchError]},
		{"server down", releasetest.None, true, is[*FetchError]},
	}
	target := hostTarget(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newCache(t, srv)
			if tt.fault == releasetest.Rebuilt {
				// Record the good release's digest, then start from an
				// empty cache that shares the record.
				if _, err := c.Fetch(context.Background(), target); err != nil {
					t.Fatal(err)
				}
				c.Dir = filepath.Join(t.TempDir(), "cache")
			}
			srv.SetFault(tt.fault)
			if tt.down {
				srv.Close()
			}
			g := newGuest(t)
			_, err := Ensure(context.Background(), g, c, Options{VM: "p-dev"})
			if !tt.check(err) {
				t.Fatalf("Ensure error = %v (%T)", err, err)
			}
			if left := cacheFiles(t, c, target); len(left) != 0 {
				t.Errorf("cache %s holds %v after a refused release", c.AssetDir(target), left)
			}
			if left := g.installed(t); len(left) != 0 {
				t.Errorf("guest holds %v after a refused release", left)
			}
			if g.calls != 1 {
				t.Errorf("%d remote commands, want only the probe", g.calls)
			}
			var h interface{ Hints() []string }
			if !errors.As(err, &h) || len(h.Hints()) == 0 {
				t.Errorf("error %v carries no hints", err)
			}
		})
	}
}

func is[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestChangedErrorNamesBothDigests(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	target := releasetest.Targets[0]
	good, err := c.Fetch(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(good.Path)
	srv.SetFault(releasetest.Rebuilt)
	_, err = c.Fetch(context.Background(), target)
	rebuilt := releasetest.Sum(append(append([]byte(nil), standIn...), "\n# rebuilt\n"...))
	if err == nil || !strings.Contains(err.Error(), good.SHA256) || !strings.Contains(err.Error(), rebuilt) {
		t.Fatalf("error %v does not name the recorded digest %s and the new one %s", err, good.SHA256, rebuilt)
	}
}

func TestFetchErrorHints(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	srv.Close()
	target := releasetest.Targets[1]
	_, err := c.Fetch(context.Background(), target)
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FetchError", err)
	}
	asset := Asset{Target: target, Base: srv.URL}
	if !strings.Contains(err.Error(), asset.SumURL()) {
		t.Errorf("error %q does not name the asset URL", err)
	}
	hints := strings.Join(fe.Hints(), "\n")
	for _, want := range []string{asset.TarballURL(), c.AssetDir(target), "SYSVM_ZELLIJ_URL", "install: false"} {
		if !strings.Contains(hints, want) {
			t.Errorf("hints %q do not mention %q", hints, want)
		}
	}
}

func TestHandPlacedAssetsNeedNoNetwork(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	srv.Close()
	target := releasetest.Targets[0]
	a := Asset{Target: target}
	dir := c.AssetDir(target)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, a.Tarball()), releasetest.Tarball(releasetest.Entry{Name: "zellij", Body: standIn}), 0o644)
	os.WriteFile(filepath.Join(dir, a.SumFile()), []byte(releasetest.Sum(standIn)+"  zellij\n"), 0o644)
	bin, err := c.Fetch(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(bin.Path); !bytes.Equal(got, standIn) {
		t.Fatalf("cache entry holds %q", got)
	}
}

func TestArchiveShapes(t *testing.T) {
	tests := []struct {
		name    string
		entries []releasetest.Entry
		ok      bool
	}{
		{"zellij at the root", []releasetest.Entry{{Name: "zellij", Body: standIn}}, true},
		{"dot-slash prefix", []releasetest.Entry{{Name: "./zellij", Body: standIn}}, true},
		{"other files beside it", []releasetest.Entry{{Name: "LICENSE", Body: []byte("MIT")}, {Name: "zellij", Body: standIn}}, true},
		{"in a directory", []releasetest.Entry{{Name: "zellij-0.45.0/zellij", Body: standIn}}, false},
		{"a symlink", []releasetest.Entry{{Name: "zellij", Type: '2'}}, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newCache(t, srv)
			srv.Close()
			target := releasetest.Targets[0]
			a := Asset{Target: target}
			dir := c.AssetDir(target)
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, a.Tarball()), releasetest.Tarball(tt.entries...), 0o644)
			os.WriteFile(filepath.Join(dir, a.SumFile()), []byte(releasetest.Sum(standIn)+"  zellij\n"), 0o644)
			_, err := c.Fetch(context.Background(), target)
			if (err == nil) != tt.ok || (!tt.ok && !is[*ArchiveError](err)) {
				t.Fatalf("Fetch error = %v, want ok %v", err, tt.ok)
			}
			if _, serr := os.Stat(filepath.Join(dir, "zellij")); (serr == nil) != tt.ok {
				t.Errorf("cache entry exists: %v, want %v", serr == nil, tt.ok)
			}
		})
	}
}

func TestCorruptCacheIsFetchedAgain(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	target := releasetest.Targets[0]
	bin, err := c.Fetch(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin.Path, []byte("#!/bin/sh\necho tampered\n"), 0o755)
	again, err := c.Fetch(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(again.Path); !bytes.Equal(got, standIn) || srv.TarballRequests() != 2 {
		t.Fatalf("after tampering: cache holds %q after %d downloads, want the release after 2", got, srv.TarballRequests())
	}
}

func TestGuestZellij(t *testing.T) {
	tests := []struct {
		name      string
		version   string // what the guest's own zellij reports; "" for none
		noInstall bool
		own       bool // the guest's own is used
		check     func(error) bool
	}{
		{"own supported zellij is used", "zellij 0.44.3", false, true, nil},
		{"oldest supported", "zellij 0.39.0", false, true, nil},
		{"too old is replaced", "zellij 0.30.0", false, false, nil},
		{"garbage version is replaced", "no idea", false, false, nil},
		{"none is installed", "", false, false, nil},
		{"none with install off", "", true, false, is[*zellij.MissingError]},
		{"too old with install off", "zellij 0.30.0", true, false, is[*TooOldError]},
		{"good with install off", "zellij 0.45.0", true, true, nil},
	}
	hostTarget(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newCache(t, srv)
			g := newGuest(t)
			var own string
			var before []byte
			if tt.version != "" {
				own = g.script(t, "zellij", "echo '"+tt.version+"'\n")
				before, _ = os.ReadFile(own)
			}
			z, err := Ensure(context.Background(), g, c, Options{VM: "p-dev", NoInstall: tt.noInstall})
			if tt.check != nil {
				if !tt.check(err) {
					t.Fatalf("Ensure error = %v (%T)", err, err)
				}
				if srv.Requests("") != 0 || len(g.installed(t)) != 0 {
					t.Fatalf("install off, yet %d requests and guest files %v", srv.Requests(""), g.installed(t))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.own {
				if z.Path != own || z.Installed || srv.Requests("") != 0 || g.calls != 1 {
					t.Fatalf("Ensure = %+v after %d requests and %d commands; want the guest's own %s, no download, one command", z, srv.Requests(""), g.calls, own)
				}
				return
			}
			if !z.Installed || z.Version != Version {
				t.Fatalf("Ensure = %+v, want the pinned zellij installed", z)
			}
			if own != "" {
				if after, _ := os.ReadFile(own); !bytes.Equal(after, before) {
					t.Errorf("the guest's own zellij changed: %q", after)
				}
			}
		})
	}
}

func TestConfiguredPath(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	g := newGuest(t)
	// A path with a space and a quote: the probe must get it as one word.
	dir := filepath.Join(g.home, "my tools", "it's")
	os.MkdirAll(dir, 0o755)
	p := filepath.Join(dir, "zellij")
	os.WriteFile(p, []byte("#!/bin/sh\necho 'zellij 0.40.1'\n"), 0o755)
	z, err := Ensure(context.Background(), g, c, Options{VM: "p-dev", Path: p})
	if err != nil {
		t.Fatal(err)
	}
	if z.Path != p || z.Version != "0.40.1" || z.Installed {
		t.Fatalf("Ensure = %+v, want the configured %s", z, p)
	}
}

func TestUnknownArch(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	g := newGuest(t)
	g.script(t, "uname", "echo riscv64\n")
	_, err := Ensure(context.Background(), g, c, Options{VM: "p-dev"})
	if !is[*ArchError](err) || !strings.Contains(err.Error(), "riscv64") {
		t.Fatalf("Ensure error = %v, want an *ArchError naming riscv64", err)
	}
	if srv.Requests("") != 0 || len(g.installed(t)) != 0 {
		t.Fatalf("%d requests, guest files %v; want none", srv.Requests(""), g.installed(t))
	}
}

func TestGuestRefusesACorruptCopy(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	g := newGuest(t)
	hostTarget(t)
	g.mangle = func(b []byte) []byte { return b[:len(b)/2] }
	_, err := Ensure(context.Background(), g, c, Options{VM: "p-dev"})
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("Ensure error = %v, want the guest's digest check to fail", err)
	}
	if left := g.installed(t); len(left) != 0 {
		t.Fatalf("guest holds %v after a broken copy", left)
	}
}

func TestInspect(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	g := newGuest(t)
	hostTarget(t)
	if _, ok, err := Inspect(context.Background(), g, c, Options{}); err != nil || ok {
		t.Fatalf("Inspect on an empty guest = %v, %v; want nothing found", ok, err)
	}
	want, err := Ensure(context.Background(), g, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	requests := srv.Requests("")
	got, ok, err := Inspect(context.Background(), g, c, Options{})
	if err != nil || !ok || got != want || srv.Requests("") != requests {
		t.Fatalf("Inspect = %+v, %v, %v; want %+v without a request", got, ok, err, want)
	}
}

// One mirror's binary never serves another source: each source has its own
// cache entry and its own recorded digest.
func TestCacheIsKeyedBySource(t *testing.T) {
	other := append(append([]byte(nil), standIn...), "\n# another binary\n"...)
	srvA := releasetest.NewServer(other)
	t.Cleanup(srvA.Close)
	srvB := newServer(t)
	a := newCache(t, srvA)
	b := *a
	b.Base = srvB.URL
	target := releasetest.Targets[0]
	binA, err := a.Fetch(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	binB, err := b.Fetch(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if binB.SHA256 != releasetest.Sum(standIn) || binA.SHA256 != releasetest.Sum(other) || binA.Path == binB.Path {
		t.Fatalf("source B got %s at %s, want %s apart from A's %s", binB.SHA256, binB.Path, releasetest.Sum(standIn), binA.Path)
	}
	if n := srvB.TarballRequests(); n != 1 {
		t.Errorf("source B served %d tarballs, want 1", n)
	}
	if b.Known(target) != binB.SHA256 || a.Known(target) != binA.SHA256 {
		t.Errorf("known digests: A %s, B %s", a.Known(target), b.Known(target))
	}
	def := *a
	def.Base = DefaultBase
	if def.Known(target) != "" || def.AssetDir(target) != filepath.Join(a.Dir, Version, target) {
		t.Errorf("the release's entry is %s with digest %q", def.AssetDir(target), def.Known(target))
	}
}

// A pinned digest is checked against the extracted binary, downloaded or
// cached; a mismatch is refused with both digests.
func TestPinnedDigest(t *testing.T) {
	srv := newServer(t)
	c := newCache(t, srv)
	target := releasetest.Targets[0]
	wrong := strings.Repeat("ab", 32)
	c.Pin = wrong
	for _, when := range []string{"download", "cached"} {
		if when == "cached" {
			c.Pin = ""
			if _, err := c.Fetch(context.Background(), target); err != nil {
				t.Fatal(err)
			}
			c.Pin = wrong
		}
		_, err := c.Fetch(context.Background(), target)
		var ve *VerifyError
		if !errors.As(err, &ve) || !ve.Pinned || !strings.Contains(err.Error(), wrong) ||
			!strings.Contains(err.Error(), releasetest.Sum(standIn)) || !strings.Contains(err.Error(), "zellij.sha256") {
			t.Fatalf("%s: error %v, want a refusal naming both digests", when, err)
		}
	}
	c.Pin = releasetest.Sum(standIn)
	if bin, err := c.Fetch(context.Background(), target); err != nil || bin.SHA256 != c.Pin {
		t.Fatalf("the right pin: %v, %+v", err, bin)
	}
}
