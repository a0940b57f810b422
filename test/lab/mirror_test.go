package lab

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/zellij/release"
	"github.com/sysvm/sysvm/zellij/release/releasetest"
)

// TestMain lets the lab clean up what its tests started.
func TestMain(m *testing.M) { Main(m) }

// sshRunner runs remote commands in a fake guest through OpenSSH and the
// instance's ssh.config: sshd hands each line to the guest's login shell,
// as it does for sysvm's own connection.
type sshRunner struct {
	l     *Lab
	vm    string
	calls int
}

func (r *sshRunner) Output(ctx context.Context, line string, stdin io.Reader) ([]byte, []byte, int, error) {
	r.calls++
	cmd := exec.CommandContext(ctx, "ssh", "-F", r.l.SSHConfig(r.vm), Hostname(r.vm), "--", line)
	cmd.Env = r.l.Env()
	return releasetest.Output(cmd, stdin)
}

// TestMirrorInstallsIntoBareGuests drives the release installer against
// two fake guests without a zellij and the lab's mirror: one download,
// two installs, and the installed stand-in runs in the guest.
func TestMirrorInstallsIntoBareGuests(t *testing.T) {
	l := New(t)
	l.GuestWithoutZellij()
	srv := l.ServeZellij()
	l.MustStart("a-dev")
	l.MustStart("b-dev")
	if res := l.SSH("a-dev", "command", "-v", "zellij"); res.ExitCode == 0 {
		t.Fatalf("the bare guest has a zellij on PATH: %s", res.Stdout)
	}
	c := &release.Cache{
		Dir:     release.DefaultCacheDir(func(string) string { return l.CacheHome }),
		Digests: filepath.Join(l.StateHome, "sysvm", "zellij-digests.json"),
		Base:    release.Base(srv.URL, ""),
	}
	// The third attach finds its install: one remote command, no copy.
	for i, vm := range []string{"a-dev", "b-dev", "a-dev"} {
		r := &sshRunner{l: l, vm: vm}
		z, err := release.Ensure(context.Background(), r, c, release.Options{VM: vm})
		if err != nil {
			t.Fatalf("%s: %v", vm, err)
		}
		if !z.Installed || !strings.HasPrefix(z.Path, filepath.Join(l.InstanceDir(vm), "home")+"/") {
			t.Fatalf("%s: Ensure = %+v, want an install in the guest's home", vm, z)
		}
		if res := l.SSH(vm, z.Path, "--version"); res.ExitCode != 0 || !strings.HasPrefix(res.Stdout, "zellij ") {
			t.Fatalf("%s: running the installed zellij: %s", vm, res)
		}
		if want := []int{2, 2, 1}[i]; r.calls != want {
			t.Errorf("attach %d (%s): %d remote commands, want %d", i+1, vm, r.calls, want)
		}
	}
	if n := srv.TarballRequests(); n != 1 {
		t.Errorf("two guests cost %d downloads, want 1", n)
	}
}

// TestMirrorFaults checks that the mirror's broken variants are what they
// claim to be, as the release installer sees them.
func TestMirrorFaults(t *testing.T) {
	l := New(t)
	srv := l.ServeZellij()
	target := releasetest.Targets[0]
	for _, tt := range []struct {
		fault releasetest.Fault
		ok    func(error) bool
	}{
		{releasetest.None, func(err error) bool { return err == nil }},
		{releasetest.BadSum, func(err error) bool { var e *release.VerifyError; return errors.As(err, &e) }},
		{releasetest.NoZellij, func(err error) bool { var e *release.ArchiveError; return errors.As(err, &e) }},
		{releasetest.Truncated, func(err error) bool { var e *release.FetchError; return errors.As(err, &e) }},
	} {
		srv.SetFault(tt.fault)
		dir := t.TempDir()
		c := &release.Cache{Dir: dir, Digests: filepath.Join(dir, "digests.json"), Base: srv.URL}
		if _, err := c.Fetch(context.Background(), target); !tt.ok(err) {
			t.Errorf("fault %d: Fetch error %v", tt.fault, err)
		}
	}
}
