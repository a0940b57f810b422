package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/term"
	"github.com/sysvm/sysvm/zellij/release"
	"github.com/sysvm/sysvm/zellij/release/releasetest"
)

// layoutProjectWith is layoutProject with a sysvm.yaml, allowed.
func (e *env) layoutProjectWith(name, sysvmYAML string) string {
	e.t.Helper()
	dir := e.layoutProject(name)
	if err := os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte(sysvmYAML), 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.allow(dir)
	return dir
}

// guestZellijSum is the sha256 of the zellij sysvm installed in vm.
func (e *env) guestZellijSum(vm string) string {
	e.t.Helper()
	r := e.SSH(vm, `sha256sum "$HOME/.local/share/sysvm/bin/zellij-`+release.Version+`"`)
	if r.ExitCode != 0 {
		e.t.Fatalf("sha256sum in %s: %s", vm, r)
	}
	return strings.Fields(r.Stdout)[0]
}

// TestZellijBySource: project A's mirror serves another binary, with a
// .sha256sum that matches it; project B, whose own mirror serves the
// release, gets its own source's binary, not the one A's mirror put in the
// host's cache.
func TestZellijBySource(t *testing.T) {
	e := newEnv(t)
	e.Setenv("SYSVM_ZELLIJ_URL=") // each project names its own mirror
	standIn, err := os.ReadFile(e.Bin.Zellij)
	if err != nil {
		t.Fatal(err)
	}
	other := append(append([]byte(nil), standIn...), "\n# not the release\n"...)
	mirrorA := releasetest.NewServer(other)
	t.Cleanup(mirrorA.Close)

	a := e.layoutProjectWith("sa", "zellij: {url: '"+mirrorA.URL+"'}\n")
	detach(t, e.attach(a, nil))
	if got := e.guestZellijSum("sa-dev"); got != releasetest.Sum(other) {
		t.Fatalf("project A's VM has zellij %s, want its mirror's %s", got, releasetest.Sum(other))
	}

	b := e.layoutProjectWith("sb", "zellij: {url: '"+e.Mirror.URL+"'}\n")
	detach(t, e.attach(b, nil))
	if got := e.guestZellijSum("sb-dev"); got != releasetest.Sum(standIn) {
		t.Errorf("project B's VM has zellij %s, want its own source's %s (A's mirror serves %s)", got, releasetest.Sum(standIn), releasetest.Sum(other))
	}
	if n := e.Mirror.TarballRequests(); n != 1 {
		t.Errorf("project B's mirror served %d tarballs, want 1", n)
	}
}

// TestZellijURLFromProjectMustBeSecure: a plain http:// mirror named in
// sysvm.yaml is refused, with what to do, before anything is downloaded.
func TestZellijURLFromProjectMustBeSecure(t *testing.T) {
	e := newEnv(t)
	dir := e.project("plainhttp", "zellij: {url: 'http://mirror.example/zellij'}\n")
	for _, cmd := range []string{"allow", "config", "up"} {
		r := e.run(dir, cmd)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "plain http://") || !strings.Contains(r.Stderr, "hint:") || !strings.Contains(r.Stderr, "SYSVM_ZELLIJ_URL") {
			t.Errorf("sysvm %s with an http:// zellij.url: %s", cmd, r)
		}
	}
	if n := e.creates("plainhttp-dev"); n != 0 {
		t.Errorf("%d VMs created", n)
	}
}

// TestZellijPinMismatch: a zellij.sha256 the release does not match is
// refused with both digests, and nothing is installed in the VM.
func TestZellijPinMismatch(t *testing.T) {
	e := newEnv(t)
	wrong := strings.Repeat("0", 64)
	dir := e.layoutProjectWith("pin", "zellij: {sha256: "+wrong+"}\n")
	tm := term.Start(t, e.cmd(dir, "attach"))
	if code := tm.ExitCode(60 * time.Second); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	out := tm.Output()
	standIn, _ := os.ReadFile(e.Bin.Zellij)
	for _, w := range []string{wrong, releasetest.Sum(standIn), "zellij.sha256", "sysvm: hint:"} {
		if !strings.Contains(out, w) {
			t.Errorf("the refusal does not say %q:\n%s", w, out)
		}
	}
	if r := e.SSH("pin-dev", `ls -A "$HOME/.local/share/sysvm/bin" 2>/dev/null`); strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("files left in the guest: %s", r.Stdout)
	}
}

// TestListingCannotBeForged: a zellij.path with 60 newlines is listed as
// one escaped line, forwardAgent is still shown, and it is repeated right
// before the question.
func TestListingCannotBeForged(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.Root, "p", "forged")
	os.MkdirAll(dir, 0o755)
	path := "/opt/zellij" + strings.Repeat("\n", 60) + "nothing else"
	os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte("forwardAgent: true\nzellij:\n  path: "+strconv.Quote(path)+"\n"), 0o644)

	r := e.run(dir, "up")
	if r.ExitCode != 1 || !strings.Contains(r.Stderr, "zellij.path: the VM's /opt/zellij"+strings.Repeat(`\n`, 60)+"nothing else runs as your session\n") ||
		!strings.Contains(r.Stderr, "forwardAgent: your SSH agent") || strings.Count(r.Stderr, "\n") > 10 {
		t.Errorf("up lists the files' values across lines, or without forwardAgent: %s", r)
	}

	tm := term.Start(t, e.cmd(dir, "attach"))
	tm.Wait(`Allow them as they are now\? \[y/N\]`, 20*time.Second)
	if !regexp.MustCompile(`they reach beyond the project: forwardAgent, zellij\.path\r?\nAllow them as they are now\?`).MatchString(tm.Output()) {
		t.Errorf("the risky items are not repeated right before the question:\n%s", tm.Output())
	}
	tm.Line("n")
	tm.ExitCode(20 * time.Second)
	if n := e.creates("forged-dev"); n != 0 {
		t.Errorf("%d VMs created", n)
	}
}

// TestStateDirOfAnotherUser: an XDG_STATE_HOME owned by another user
// (nobody), holding a forged allow record, is refused with a clear error;
// nothing is read or written there.
func TestStateDirOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("a directory of another user needs root to chown it to nobody")
	}
	e := newEnv(t)
	dir := filepath.Join(e.Root, "p", "victim")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "sysvm.yaml"), []byte("forwardAgent: true\n"), 0o644)

	shared := filepath.Join(e.Root, "shared-state")
	sum := sha256.Sum256([]byte("forwardAgent: true\n"))
	key := sha256.Sum256([]byte(dir))
	record := filepath.Join(shared, "sysvm", "allowed", hex.EncodeToString(key[:16])+".json")
	os.MkdirAll(filepath.Dir(record), 0o700)
	os.WriteFile(record, []byte(`{"dir": "`+dir+`", "files": {"sysvm.yaml": "`+hex.EncodeToString(sum[:])+`"}}`), 0o600)
	filepath.Walk(shared, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, 65534, 65534) })
	before := tree(t, shared)
	e.Setenv("XDG_STATE_HOME=" + shared)

	for _, cmd := range []string{"up", "status"} {
		r := e.run(dir, cmd)
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, shared) || !strings.Contains(r.Stderr, "is owned by user nobody") || !strings.Contains(r.Stderr, "hint:") {
			t.Errorf("sysvm %s with a state directory of another user: %s", cmd, r)
		}
	}
	if n := e.creates("victim-dev"); n != 0 {
		t.Errorf("%d VMs created on a forged allow record", n)
	}
	if after := tree(t, shared); after != before {
		t.Errorf("the other user's state directory changed:\n%s\nwas:\n%s", after, before)
	}
}

// tree lists the files under dir with their modification times.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			b.WriteString(p + " " + fi.ModTime().String() + "\n")
		}
		return nil
	})
	return b.String()
}
