// Package release is the pinned Zellij release sysvm brings into a guest:
// which asset fits the guest, where it comes from, a verified download into
// the user's cache, and its installation into the guest over a connection
// the caller already holds.
//
// Nothing unverified ever runs. Zellij's release workflow publishes, next to
// each `zellij-<target>.tar.gz`, a `zellij-<target>.sha256sum` that is
// sha256sum(1) of the extracted binary, not of the tarball (Zellij's source
// at v0.39.0, v0.43.1 and v0.45.0, .github/workflows/release.yml). The
// extracted binary must match that file, the digest table below where it
// has an entry, the digest sysvm recorded the first time it saw the asset
// from that source (the release, or one mirror: see Cache), and the user's
// own pin (zellij.sha256) when there is one.
package release

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Version is the Zellij release sysvm installs: the newest release, per
// Zellij's CHANGELOG.md and tags (v0.45.0, 2026-08-20).
const Version = "0.45.0"

// MinVersion is the oldest Zellij sysvm drives; a guest's own zellij older
// than this is not used.
const MinVersion = "0.39.0"

// DefaultBase is the release's download directory on GitHub. A mirror
// replaces it as a whole: assets are fetched from <base>/<asset name>.
const DefaultBase = "https://github.com/zellij-org/zellij/releases/download/v" + Version

// published holds the sha256 of the extracted binary per target, where
// Zellij publishes one outside the release itself. Zellij publishes its
// digests only as the release's own .sha256sum assets, and those could not
// be downloaded when this table was written, so it is empty: verification
// rests on the .sha256sum asset and the digest recorded on first sight.
// Add an entry only from a digest actually obtained from the release.
var published = map[string]string{}

// Target returns the Rust target of the release asset for a guest whose
// `uname -m` is machine.
func Target(machine string) (string, error) {
	switch machine {
	case "x86_64", "amd64":
		return "x86_64-unknown-linux-musl", nil
	case "aarch64", "arm64":
		return "aarch64-unknown-linux-musl", nil
	}
	return "", &ArchError{Machine: machine}
}

// Asset is one target's pair of release files.
type Asset struct {
	// Target is the Rust target, e.g. x86_64-unknown-linux-musl.
	Target string
	// Base is the download directory the files are fetched from.
	Base string
}

// Tarball is the file name of the archive holding the binary.
func (a Asset) Tarball() string { return "zellij-" + a.Target + ".tar.gz" }

// SumFile is the file name of the binary's checksum.
func (a Asset) SumFile() string { return "zellij-" + a.Target + ".sha256sum" }

// TarballURL is where the archive is downloaded from.
func (a Asset) TarballURL() string { return a.Base + "/" + a.Tarball() }

// SumURL is where the checksum is downloaded from.
func (a Asset) SumURL() string { return a.Base + "/" + a.SumFile() }

// Base returns the download directory to use: env (SYSVM_ZELLIJ_URL) wins
// over file (zellij.url in sysvm.yaml), and both over DefaultBase.
func Base(env, file string) string {
	for _, b := range []string{env, file} {
		if b = strings.TrimRight(strings.TrimSpace(b), "/"); b != "" {
			return b
		}
	}
	return DefaultBase
}

// ParseSum reads a .sha256sum asset: one line `<hex>  <path>`, where path
// is the binary as it was named when summed (`zellij` up to 0.39,
// `target/<target>/release/zellij` from 0.43; sha256sum's `*` binary-mode
// marker is accepted). It returns the lowercase hex digest.
func ParseSum(b []byte) (string, error) {
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	if !sc.Scan() {
		return "", fmt.Errorf("the checksum file is empty")
	}
	fields := strings.Fields(sc.Text())
	if len(fields) != 2 {
		return "", fmt.Errorf("the checksum file's line %q is not `<sha256>  <file>`", sc.Text())
	}
	sum, name := strings.ToLower(fields[0]), strings.TrimPrefix(fields[1], "*")
	if _, err := hex.DecodeString(sum); err != nil || len(sum) != 64 {
		return "", fmt.Errorf("the checksum file's digest %q is not a sha256", fields[0])
	}
	if name != "zellij" && !strings.HasSuffix(name, "/zellij") {
		return "", fmt.Errorf("the checksum file sums %q, not the zellij binary", name)
	}
	return sum, nil
}

// ParseVersion reads `zellij --version` output ("zellij 0.44.3") and returns
// the version ("0.44.3").
func ParseVersion(out string) (string, bool) {
	fields := strings.Fields(out)
	if len(fields) < 2 || fields[0] != "zellij" {
		return "", false
	}
	if _, ok := semver(fields[1]); !ok {
		return "", false
	}
	return fields[1], true
}

// Supported reports whether version is at least MinVersion.
func Supported(version string) bool { return AtLeast(version, MinVersion) }

// AtLeast reports whether version is at least min (both MAJOR.MINOR.PATCH).
func AtLeast(version, min string) bool {
	v, ok := semver(version)
	m, _ := semver(min)
	if !ok {
		return false
	}
	for i := range v {
		if v[i] != m[i] {
			return v[i] > m[i]
		}
	}
	return true
}

// semver parses the leading MAJOR.MINOR.PATCH of v; anything after the
// patch number (a pre-release such as -dev) is ignored.
func semver(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
