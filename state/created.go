package state

import (
	"os"

	"github.com/sysvm/sysvm/files"
)

// The Lima config each VM was created from is kept as created/<vm>.yaml,
// so sysvm can tell the user which settings changed since.

// SaveCreated records the config vm is created from, and returns the
// path of that private copy (mode 0600) for limactl to read.
func (d Dir) SaveCreated(vm string, config []byte) (string, error) {
	dir, err := d.MkdirAll("created")
	if err != nil {
		return "", err
	}
	path := dir + "/" + vm + ".yaml"
	return path, WriteFile(path, config)
}

// Created returns the config vm was created from, if sysvm created it.
func (d Dir) Created(vm string) ([]byte, bool) {
	b, err := os.ReadFile(d.Path("created", vm+".yaml"))
	return b, err == nil
}

// ForgetCreated drops the record of vm's creation.
func (d Dir) ForgetCreated(vm string) error {
	return files.Remove(d.Path("created", vm+".yaml"))
}
