package lima

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Lima logs the guest's serial consoles in the instance directory:
// serial.log (QEMU's default console), serialp.log (QEMU's PCI console on
// ARM) and serialv.log (virtio, and vz's console) (Lima v1.2.2 and v2.2.0
// pkg/limatype/filenames). Only the user can write there, and only the
// guest's kernel writes to its console, so fingerprints printed there
// cannot come from the guest's network.
var consoleLogs = []string{"serial.log", "serialp.log", "serialv.log"}

// consoleTail is how much of the end of a console log is read: the
// fingerprints come at the end of the boot, before a few login prompts.
const consoleTail = 256 << 10

// cloud-init's cc_keys_to_console prints these around one line per host
// key, "256 SHA256:… root@host (ED25519)", each line possibly prefixed by
// its logger tag ("ec2: ").
const (
	fpBegin = "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
	fpEnd   = "-----END SSH HOST KEY FINGERPRINTS-----"
)

// ConsoleFingerprints returns the SHA256 fingerprints ("SHA256:…") of the
// host keys the guest printed on its console in its current boot: the
// last fingerprint block of the most recently written console log in the
// instance directory. It is empty when the guest printed none.
func (i *Instance) ConsoleFingerprints() (map[string]bool, error) {
	var newest os.FileInfo
	var fps map[string]bool
	for _, name := range consoleLogs {
		p := filepath.Join(i.Dir, name)
		st, err := os.Stat(p)
		if err != nil || st.Size() == 0 || (newest != nil && !st.ModTime().After(newest.ModTime())) {
			continue
		}
		got, err := readFingerprints(p, st.Size())
		if err != nil {
			return nil, err
		}
		if len(got) > 0 {
			newest, fps = st, got
		}
	}
	return fps, nil
}

// readFingerprints reads the last fingerprint block in the tail of the log
// at path.
func readFingerprints(path string, size int64) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > consoleTail {
		if _, err := f.Seek(size-consoleTail, io.SeekStart); err != nil {
			return nil, err
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, consoleTail))
	if err != nil {
		return nil, err
	}
	return parseFingerprints(b), nil
}

// parseFingerprints returns the SHA256 fingerprints in the last complete
// fingerprint block of a console log; nil when there is none.
func parseFingerprints(log []byte) map[string]bool {
	var last, cur map[string]bool
	in := false
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.Contains(line, fpBegin):
			in, cur = true, map[string]bool{}
		case strings.Contains(line, fpEnd):
			if in && len(cur) > 0 {
				last = cur
			}
			in = false
		case in:
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "SHA256:") && len(f) > len("SHA256:") {
					cur[f] = true
				}
			}
		}
	}
	return last
}

// ConsoleTailKiB is how much of the end of a console log
// ConsoleFingerprints reads, in KiB, for messages.
const ConsoleTailKiB = consoleTail >> 10

// ConsoleTruncated reports whether a console log of the instance is longer
// than the tail ConsoleFingerprints reads: fingerprints printed before
// that tail are not seen.
func (i *Instance) ConsoleTruncated() bool {
	for _, name := range consoleLogs {
		if st, err := os.Stat(filepath.Join(i.Dir, name)); err == nil && st.Size() > consoleTail {
			return true
		}
	}
	return false
}
