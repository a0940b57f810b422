package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/crypto/ssh"
)

// writeKeyPair generates an ed25519 key and writes it in OpenSSH format to
// privPath (0600) and privPath+".pub" (0644), with the given comment —
// the same as `ssh-keygen -t ed25519 -q -N "" -C <comment>`.
func writeKeyPair(privPath, comment string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("failed to generate an ed25519 key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return fmt.Errorf("failed to marshal the private key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("failed to convert the public key: %w", err)
	}
	authorized := ssh.MarshalAuthorizedKey(sshPub) // ends with "\n"
	pubLine := append(authorized[:len(authorized)-1:len(authorized)-1], []byte(" "+comment+"\n")...)

	tmp := privPath + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(privPath+".pub", pubLine, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, privPath)
}

// ensureUserKey creates $LIMA_HOME/_config/user{,.pub} if missing, under an
// exclusive flock on the _config directory (Lima uses a directory lock too),
// so concurrent starts do not race.
func ensureUserKey() error {
	dir, err := limaConfigDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("failed to lock %q: %w", dir, err)
	}
	defer syscall.Flock(int(d.Fd()), syscall.LOCK_UN) //nolint:errcheck

	priv := filepath.Join(dir, "user")
	_, errPriv := os.Stat(priv)
	_, errPub := os.Stat(priv + ".pub")
	if errPriv == nil && errPub == nil {
		return nil
	}
	if !errors.Is(errPriv, os.ErrNotExist) && errPriv != nil {
		return errPriv
	}
	if err := writeKeyPair(priv, "lima"); err != nil {
		return fmt.Errorf("failed to create the SSH key %q: %w", priv, err)
	}
	return nil
}

// ensureHostKey creates the per-instance sshd host key if missing. It is
// kept across starts so the guest's host key is stable, like a real VM's.
func ensureHostKey(instDir string) error {
	p := filepath.Join(instDir, fnFakeHostKey)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := writeKeyPair(p, "fakelimactl-host"); err != nil {
		return fmt.Errorf("failed to create the host key %q: %w", p, err)
	}
	return nil
}
