package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	sysvmlima "github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/test/lab"
)

// The console of each boot holds exactly the fingerprint of the key the
// sshd of that boot presents; with FAKELIMA_NO_CONSOLE_KEYS, none.
func TestConsoleFingerprints(t *testing.T) {
	l := lab.New(t, lab.GuestZellij())
	l.MustLimactl("start", "--name=c", "--tty=false", l.WriteLimaYAML("c", ""))
	dir := l.InstanceDir("c")
	keyFP := func() string {
		b, err := os.ReadFile(filepath.Join(dir, "fake-hostkey.pub"))
		if err != nil {
			t.Fatal(err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			t.Fatal(err)
		}
		return ssh.FingerprintSHA256(k)
	}
	check := func(when string) {
		t.Helper()
		fps, err := (&sysvmlima.Instance{Dir: dir}).ConsoleFingerprints()
		if want := keyFP(); err != nil || len(fps) != 1 || !fps[want] {
			t.Errorf("%s: console fingerprints %v, %v; want only %s", when, fps, err, want)
		}
		if st, err := os.Stat(filepath.Join(dir, "serialv.log")); err != nil || st.Size() != 0 {
			t.Errorf("%s: serialv.log should exist, empty: %v", when, err)
		}
	}
	check("first boot")
	first := keyFP()
	// A new host key at the next boot: the console is truncated and shows it.
	l.MustLimactl("stop", "c")
	os.Remove(filepath.Join(dir, "fake-hostkey"))
	l.MustLimactl("start", "c")
	check("second boot")
	if b, _ := os.ReadFile(filepath.Join(dir, "serial.log")); keyFP() == first || strings.Contains(string(b), first) {
		t.Errorf("the second boot's console still shows the first key %s", first)
	}

	l.MustLimactl("stop", "c")
	l.Setenv("FAKELIMA_NO_CONSOLE_KEYS=1", "FAKELIMA_MAX_SESSIONS=10")
	l.MustLimactl("start", "c")
	if fps, err := (&sysvmlima.Instance{Dir: dir}).ConsoleFingerprints(); err != nil || len(fps) != 0 {
		t.Errorf("FAKELIMA_NO_CONSOLE_KEYS: fingerprints %v, %v", fps, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "fake-sshd_config")); !strings.Contains(string(b), "\nMaxSessions 10\n") {
		t.Errorf("FAKELIMA_MAX_SESSIONS=10 not in sshd_config:\n%s", b)
	}
}
