package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/term"
	"github.com/sysvm/sysvm/zellij/release"
	"github.com/sysvm/sysvm/zellij/release/releasetest"
)

// TestZellijInstalledFromMirror is the first day on stock guests (no zellij
// at all): the first attach downloads the pinned release once, installs it
// and lands in the session; a second project reuses the host's copy; a
// third attach of the first project copies nothing.
func TestZellijInstalledFromMirror(t *testing.T) {
	e := newEnv(t)
	a := e.layoutProject("za")
	detach(t, e.attach(a, nil))
	if n := e.Mirror.TarballRequests(); n != 1 {
		t.Fatalf("%d tarball downloads after the first attach, want 1", n)
	}
	s := e.status(a)
	if s.Zellij == nil || !s.Zellij.Installed || s.Zellij.Version != release.Version ||
		!strings.HasSuffix(s.Zellij.Path, "/sysvm/bin/zellij-"+release.Version) {
		t.Fatalf("status zellij = %+v, want sysvm's installed %s", s.Zellij, release.Version)
	}
	stat := func() string {
		r := e.SSH("za-dev", "stat -c '%i %Y' "+s.Zellij.Path)
		if r.ExitCode != 0 {
			t.Fatalf("stat in the guest: %s", r)
		}
		return r.Stdout
	}
	before := stat()

	b := e.layoutProject("zb")
	detach(t, e.attach(b, nil))
	if n := e.Mirror.TarballRequests(); n != 1 {
		t.Errorf("%d tarball downloads after a second project, want 1", n)
	}
	if z := e.status(b).Zellij; z == nil || !z.Installed {
		t.Errorf("second project's zellij: %+v", z)
	}

	time.Sleep(1100 * time.Millisecond) // a copy would show in the mtime
	detach(t, e.attach(a, nil))
	if after := stat(); after != before {
		t.Errorf("the third attach copied zellij again: %q → %q", before, after)
	}
	if n := e.Mirror.TarballRequests(); n != 1 {
		t.Errorf("%d tarball downloads in all, want 1", n)
	}
}

// TestZellijBadRelease: a release that fails verification, or a mirror
// that is down, gets one clear error that says what to do, and leaves no
// cache entry and no file in the guest.
func TestZellijBadRelease(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault releasetest.Fault
		want  []string
	}{
		{"checksum mismatch", releasetest.BadSum, []string{"sha256"}},
		{"mirror down", releasetest.NotFound, []string{"zellij-x86_64-unknown-linux-musl.tar.gz", "SYSVM_ZELLIJ_URL", "install: false"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.Mirror.SetFault(tt.fault)
			dir := e.layoutProject("zbad")
			tm := term.Start(t, e.cmd(dir, "attach"))
			if code := tm.ExitCode(60 * time.Second); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			out := tm.Output()
			for _, w := range append(tt.want, "sysvm: hint:") {
				if !strings.Contains(out, w) {
					t.Errorf("the error does not say %q:\n%s", w, out)
				}
			}
			cached, _ := filepath.Glob(filepath.Join(e.CacheHome, "sysvm", "zellij", release.Version, "*", "zellij"))
			if len(cached) != 0 {
				t.Errorf("a cache entry was left: %v", cached)
			}
			if r := e.SSH("zbad-dev", `ls -A "$HOME/.local/share/sysvm/bin" 2>/dev/null`); strings.TrimSpace(r.Stdout) != "" {
				t.Errorf("files left in the guest: %s", r.Stdout)
			}
			if _, err := os.Stat(dir); err != nil {
				t.Fatal(err)
			}
		})
	}
}
