package lima

import (
	"bytes"
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// processArgs returns pid's argv from the kern.procargs2 sysctl: argc as a
// 32-bit integer, the executable's path, NUL padding, then argc
// NUL-terminated arguments and the environment, which is left out.
func processArgs(pid int) ([]string, error) {
	b, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, errors.New("short kern.procargs2")
	}
	argc := int(binary.LittleEndian.Uint32(b[:4]))
	b = b[4:]
	// Skip the executable's path and its padding.
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return nil, errors.New("malformed kern.procargs2")
	}
	b = b[i:]
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	var out []string
	for len(out) < argc && len(b) > 0 {
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			j = len(b)
		}
		out = append(out, string(b[:j]))
		b = b[min(j+1, len(b)):]
	}
	return out, nil
}
