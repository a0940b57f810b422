package lima

import "testing"

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
			got := parseFingerprints([]byte(tc.log))
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
