package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Console logs of a QEMU instance: the default serial console, which the
// guest's kernel and cloud-init write to, and the virtio one, empty on
// these guests (Lima v1.2.2 and v2.2.0 pkg/limatype/filenames; QEMU
// truncates both at each start).
const (
	fnSerialLog  = "serial.log"
	fnSerialVLog = "serialv.log"
)

// bootConsole starts the boot's console logs afresh with a kernel line.
func (ha *hostAgent) bootConsole() error {
	if err := os.WriteFile(ha.path(fnSerialVLog), nil, 0o644); err != nil {
		return err
	}
	line := fmt.Sprintf("[    0.000000] Linux version 6.1.0-fakelimactl (fake guest %s)\r\n", ha.name)
	return os.WriteFile(ha.path(fnSerialLog), []byte(line), 0o644)
}

// printHostKeys appends to the console what cloud-init's keys_to_console
// module prints at the end of a boot: the fingerprints of the sshd's host
// keys, then the keys, each fingerprint line tagged by logger as "ec2:".
// FAKELIMA_NO_CONSOLE_KEYS plays an image that prints none.
func (ha *hostAgent) printHostKeys() error {
	if knobOn("FAKELIMA_NO_CONSOLE_KEYS", ha.name) {
		return nil
	}
	pub, err := os.ReadFile(ha.path(fnFakeHostKey + ".pub"))
	if err != nil {
		return err
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		return err
	}
	tag := "<14>" + time.Now().Format(time.Stamp) + " ec2: "
	host := hostnameFor(ha.name)
	lines := []string{
		tag,
		tag + strings.Repeat("#", 61),
		tag + "-----BEGIN SSH HOST KEY FINGERPRINTS-----",
		tag + fmt.Sprintf("256 %s root@%s (ED25519)", ssh.FingerprintSHA256(key), host),
		tag + "-----END SSH HOST KEY FINGERPRINTS-----",
		tag + strings.Repeat("#", 61),
		"-----BEGIN SSH HOST KEY KEYS-----",
		strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + " root@" + host,
		"-----END SSH HOST KEY KEYS-----",
	}
	f, err := os.OpenFile(ha.path(fnSerialLog), os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(strings.Join(lines, "\r\n") + "\r\n")
	return err
}

// maxSessions is the guest sshd's limit of sessions per connection:
// FAKELIMA_MAX_SESSIONS, else 100 so tests that share one connection
// among many clients do not hit OpenSSH's default of 10.
func maxSessions(name string) string {
	if n := knob("FAKELIMA_MAX_SESSIONS", name); n != "" {
		return n
	}
	return "100"
}
