package state

import (
	"errors"
	"os"
	"strings"

	"github.com/sysvm/sysvm/files"
)

// Host keys are pinned one file per VM (hostkeys/<vm>, one line in
// authorized_keys format), so concurrent pins of different VMs never race.

// HostKey returns the pinned host key of vm, in authorized_keys format.
func (d Dir) HostKey(vm string) (key string, ok bool, err error) {
	b, err := os.ReadFile(d.Path("hostkeys", vm))
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	return strings.TrimSpace(string(b)), true, nil
}

// PinHostKey records vm's host key.
func (d Dir) PinHostKey(vm, key string) error {
	dir, err := d.MkdirAll("hostkeys")
	if err != nil {
		return err
	}
	return WriteFile(dir+"/"+vm, []byte(strings.TrimSpace(key)+"\n"))
}

// UnpinHostKey forgets vm's host key, so the next connection pins a new one.
func (d Dir) UnpinHostKey(vm string) error {
	return files.Remove(d.Path("hostkeys", vm))
}
