package limaconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
)

// stampPrefix starts the last line of every config sysvm generates; the
// rest of the line is the SHA-256 of everything above it.
const stampPrefix = "# sysvm-generated sha256:"

// stamp appends the line that records the hash of gen.
func stamp(gen []byte) []byte {
	sum := sha256.Sum256(gen)
	return append(append(gen, stampPrefix...), hex.EncodeToString(sum[:])+"\n"...)
}

// Unedited reports whether cur is a config sysvm generated that nobody has
// changed since: its last line is sysvm's stamp and matches the rest. Such
// a file sysvm may regenerate when the settings change; any other file is
// the user's and is never overwritten.
func Unedited(cur []byte) bool {
	body := bytes.TrimSuffix(cur, []byte("\n"))
	i := bytes.LastIndexByte(body, '\n')
	last := body[i+1:]
	if !bytes.HasPrefix(last, []byte(stampPrefix)) {
		return false
	}
	return bytes.Equal(stamp(append([]byte(nil), cur[:i+1]...)), cur)
}
