package sshx

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestParseFingerprints(t *testing.T) {
	block := func(fps ...string) string {
		s := "<14>Nov 30 20:40:00 ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\r\n"
		for _, fp := range fps {
			s += "<14>Nov 30 20:40:00 ec2: 256 " + fp + " root@lima-x (ED25519)\r\n"
		}
		return s + "<14>Nov 30 20:40:00 ec2: -----END SSH HOST KEY FINGERPRINTS-----\r\n"
	}
	for _, tc := range []struct {
		name, log string
		want      []string
	}{
		{"no block (an image that prints none)", "[    0.0] Linux version 6.1\nlogin: ", nil},
		{"one boot, two keys", "boot\n" + block("SHA256:aaa", "SHA256:bbb") + "login: ", []string{"SHA256:aaa", "SHA256:bbb"}},
		// An appended log: only the current (last) boot counts.
		{"two boots", block("SHA256:old") + "reboot\n" + block("SHA256:new"), []string{"SHA256:new"}},
		// Cut off mid-block (the boot is still printing): the last complete one.
		{"unfinished block", block("SHA256:old") + "<14>ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 SHA256:half", []string{"SHA256:old"}},
		// Lines without a fingerprint inside the block are ignored.
		{"noise in the block", "-----BEGIN SSH HOST KEY FINGERPRINTS-----\nSHA256: \n256 MD5:xx root@h (RSA)\n256 SHA256:ok root@h (ED25519)\n-----END SSH HOST KEY FINGERPRINTS-----\n", []string{"SHA256:ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseFingerprints([]byte(tc.log))
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, fp := range tc.want {
				if !got[fp] {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

type memKeys map[string]string

func (m memKeys) HostKey(vm string) (string, bool, error) { k, ok := m[vm]; return k, ok, nil }
func (m memKeys) PinHostKey(vm, key string) error         { m[vm] = key; return nil }

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
	console := "-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 " + ssh.FingerprintSHA256(booted) + " root@h (ED25519)\n-----END SSH HOST KEY FINGERPRINTS-----\n"
	for _, tc := range []struct {
		name      string
		pinned    ssh.PublicKey // nil: none
		console   string        // serial.log; "" none
		presented ssh.PublicKey
		wantErr   bool
		wantPin   ssh.PublicKey
	}{
		{"pinned key, no console read needed", old, "", old, false, old},
		// A restart outside sysvm: new key, shown on the console.
		{"changed key printed on the console", old, console, booted, false, booted},
		{"first key printed on the console", nil, console, booted, false, booted},
		// Something else on the port: refused, and nothing pinned.
		{"changed key not on the console", old, console, other, true, old},
		{"first key not on the console", nil, console, other, true, nil},
		// An image that prints no fingerprints: trust on first use.
		{"no console: first key pinned", nil, "boot\nlogin: ", other, false, other},
		{"no console: changed key refused", old, "boot\nlogin: ", other, true, old},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.console != "" {
				os.WriteFile(filepath.Join(dir, "serial.log"), []byte(tc.console), 0o644)
			}
			keys := memKeys{}
			if tc.pinned != nil {
				keys["x-dev"] = authorized(tc.pinned)
			}
			err := pinning("x-dev", keys, dir)("", nil, tc.presented)
			var hk *HostKeyChangedError
			if tc.wantErr != (err != nil) || (err != nil && !errors.As(err, &hk)) {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if hk != nil && hk.Console != strings.Contains(tc.console, "BEGIN") {
				t.Errorf("Console = %v in %v", hk.Console, err)
			}
			pin, ok := keys["x-dev"]
			if tc.wantPin == nil && ok || tc.wantPin != nil && pin != authorized(tc.wantPin) {
				t.Errorf("pin after the check = %q", pin)
			}
		})
	}
}
