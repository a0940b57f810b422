package state

import (
	"errors"
	"os"
	"strings"

	"github.com/sysvm/sysvm/files"
)

// Host keys are pinned one file per VM (hostkeys/<vm>: one line in
// authorized_keys format, then "first-use" on a line of its own when
// nothing vouched for the key), so concurrent pins of different VMs never
// race.

// firstUseLine marks a key pinned on trust.
const firstUseLine = "first-use"

func (d Dir) readPin(vm string) (key string, firstUse, ok bool, err error) {
	b, err := os.ReadFile(d.Path("hostkeys", vm))
	if errors.Is(err, os.ErrNotExist) {
		return "", false, false, nil
	} else if err != nil {
		return "", false, false, err
	}
	key, rest, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(key), strings.TrimSpace(rest) == firstUseLine, true, nil
}

// HostKey returns the pinned host key of vm, in authorized_keys format.
func (d Dir) HostKey(vm string) (key string, ok bool, err error) {
	key, _, ok, err = d.readPin(vm)
	return key, ok, err
}

// PinnedOnFirstUse reports whether vm's pinned key was trusted on first
// use: the guest printed no fingerprints to check it against.
func (d Dir) PinnedOnFirstUse(vm string) bool {
	_, firstUse, _, _ := d.readPin(vm)
	return firstUse
}

// PinHostKey records vm's host key; firstUse says nothing vouched for it.
func (d Dir) PinHostKey(vm, key string, firstUse bool) error {
	dir, err := d.MkdirAll("hostkeys")
	if err != nil {
		return err
	}
	b := strings.TrimSpace(key) + "\n"
	if firstUse {
		b += firstUseLine + "\n"
	}
	return WriteFile(dir+"/"+vm, []byte(b))
}

// UnpinHostKey forgets vm's host key, so the next connection pins a new one.
func (d Dir) UnpinHostKey(vm string) error {
	return files.Remove(d.Path("hostkeys", vm))
}
