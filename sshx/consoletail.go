package sshx

import (
	"os"
	"path/filepath"
)

// ConsoleTailKiB is how much of the end of a console log
// ConsoleFingerprints reads, in KiB, for messages.
const ConsoleTailKiB = consoleTail >> 10

// ConsoleTruncated reports whether a console log in the instance directory
// dir is longer than the tail ConsoleFingerprints reads: fingerprints
// printed before that tail are not seen.
func ConsoleTruncated(dir string) bool {
	for _, name := range consoleLogs {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Size() > consoleTail {
			return true
		}
	}
	return false
}
