package lab

import (
	"os"

	"github.com/sysvm/sysvm/zellij/release/releasetest"
)

// bareGuestPath is the fake guests' PATH without the guest-bin directory
// that holds the zellij stand-in: a stock guest with no zellij at all.
const bareGuestPath = "/usr/local/bin:/usr/bin:/bin"

// GuestWithoutZellij takes the zellij stand-in off the PATH of every fake
// guest started from now on, as on a stock VM image; sysvm then has to
// install Zellij itself (see ServeZellij).
func (l *Lab) GuestWithoutZellij() {
	l.Setenv("FAKELIMA_GUEST_PATH=" + bareGuestPath)
}

// ServeZellij starts a loopback HTTP mirror that serves the zellij
// stand-in as the pinned Zellij release (a tarball with the stand-in as
// `zellij` at its root, and its .sha256sum) and points sysvm at it with
// SYSVM_ZELLIJ_URL. The mirror counts requests and can serve broken
// variants (releasetest.Fault); it stops when the test ends.
func (l *Lab) ServeZellij() *releasetest.Server {
	l.t.Helper()
	bin, err := os.ReadFile(l.Bin.Zellij)
	if err != nil {
		l.t.Fatalf("lab: reading the zellij stand-in: %v", err)
	}
	srv := releasetest.NewServer(bin)
	l.t.Cleanup(srv.Close)
	l.Setenv("SYSVM_ZELLIJ_URL=" + srv.URL)
	return srv
}
