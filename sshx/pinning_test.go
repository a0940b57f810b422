package sshx

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

type memKeys map[string]string

func (m memKeys) HostKey(vm string) (string, bool, error) { k, ok := m[vm]; return k, ok, nil }
func (m memKeys) PinHostKey(vm, key string, firstUse bool) error {
	m[vm] = key
	if firstUse {
		m[vm+" first-use"] = "yes"
	}
	return nil
}

func newKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func authorized(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestPinningWithConsole(t *testing.T) {
	old, booted, other := newKey(t), newKey(t), newKey(t)
	console := []string{ssh.FingerprintSHA256(booted)}
	for _, tc := range []struct {
		name      string
		pinned    ssh.PublicKey // nil: none
		console   []string      // the fingerprints the console shows
		presented ssh.PublicKey
		wantErr   bool
		wantPin   ssh.PublicKey
		// verify is what a dial that may not pin gets: nothing pinned,
		// and a *NoPinError where pinning would have happened.
		verify string // "ok", "no-pin", "changed"
	}{
		{"pinned key, no console read needed", old, nil, old, false, old, "ok"},
		// A restart outside sysvm: new key, shown on the console.
		{"changed key printed on the console", old, console, booted, false, booted, "no-pin"},
		{"first key printed on the console", nil, console, booted, false, booted, "no-pin"},
		// Something else on the port: refused, and nothing pinned.
		{"changed key not on the console", old, console, other, true, old, "changed"},
		{"first key not on the console", nil, console, other, true, nil, "changed"},
		// An image that prints no fingerprints: trust on first use.
		{"no console: first key pinned", nil, nil, other, false, other, "no-pin"},
		{"no console: changed key refused", old, nil, other, true, old, "changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := memKeys{}
			if tc.pinned != nil {
				keys["x-dev"] = authorized(tc.pinned)
			}
			read := false
			printed := func() (map[string]bool, error) {
				read = true
				fps := map[string]bool{}
				for _, fp := range tc.console {
					fps[fp] = true
				}
				return fps, nil
			}
			verifyKeys := memKeys{}
			for k, v := range keys {
				verifyKeys[k] = v
			}
			verr := pinning("x-dev", verifyKeys, printed, false)("", nil, tc.presented)
			got := "ok"
			switch {
			case errors.As(verr, new(*NoPinError)):
				got = "no-pin"
			case errors.As(verr, new(*HostKeyChangedError)):
				got = "changed"
			case verr != nil:
				got = verr.Error()
			}
			if got != tc.verify {
				t.Errorf("a dial that may not pin: %v (%s), want %s", verr, got, tc.verify)
			}
			if verifyKeys["x-dev"] != keys["x-dev"] || len(verifyKeys) != len(keys) {
				t.Errorf("a dial that may not pin changed the pins: %q", verifyKeys)
			}
			err := pinning("x-dev", keys, printed, true)("", nil, tc.presented)
			var hk *HostKeyChangedError
			if tc.wantErr != (err != nil) || (err != nil && !errors.As(err, &hk)) {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if hk != nil && hk.Console != (len(tc.console) > 0) {
				t.Errorf("Console = %v in %v", hk.Console, err)
			}
			if read && tc.pinned != nil && authorized(tc.pinned) == authorized(tc.presented) {
				t.Error("the console was read though the pin matched")
			}
			pin, ok := keys["x-dev"]
			if tc.wantPin == nil && ok || tc.wantPin != nil && pin != authorized(tc.wantPin) {
				t.Errorf("pin after the check = %q", pin)
			}
			if firstUse := keys["x-dev first-use"] != ""; firstUse != (tc.pinned == nil && tc.console == nil && !tc.wantErr) {
				t.Errorf("pinned on first use: %v", firstUse)
			}
		})
	}
}
