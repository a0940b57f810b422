package lima

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sysvm/sysvm/files"
)

// Version is a Lima release number as `limactl --version` prints it.
type Version struct {
	Major, Minor, Patch int
	// Pre is a pre-release or build suffix ("beta.0", "12-gabcdef"); it
	// does not take part in comparisons.
	Pre string
	// Dev marks a build whose version Lima cannot parse either: an
	// unversioned build (`limactl version <unknown>`), a bare commit hash,
	// anything not X.Y.Z. Lima itself treats those as the very latest
	// release (Lima v2.2.0 pkg/version/versionutil/versionutil.go:30-33),
	// and so does sysvm.
	Dev bool
	// Raw is what limactl printed, without "limactl version " and "v",
	// when String would not give it back ("2.2.0.m", a commit hash).
	Raw string
}

// MinVersion is the oldest Lima sysvm drives. 1.0.0 because sysvm's
// generated lima.yaml needs the `user` block and sets minimumLimaVersion
// 1.0.0 (both 1.0+), and it reads `config.user.name` and the 1.0 `lima-NAME`
// host alias with `.`/`_` rewritten (Lima v1.0.0 pkg/store/instance.go,
// pkg/instance/hostname).
var MinVersion = Version{Major: 1}

// ParseVersion reads what `limactl --version` prints the way Lima reads
// its own version strings (Lima v1.2.2 and v2.2.0
// pkg/version/versionutil/versionutil.go:16-21): without a leading "v",
// up to the first "-" (a pre-release, or `git describe`'s
// "-153-g183a60d7"), without the ".m" a build from a modified tree
// carries (Lima's Makefile). What is then not X.Y.Z ("<unknown>", a bare
// commit hash) is a Dev build, newer than every release, as Lima treats
// it. Only empty output is an error.
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimPrefix(s, "limactl version "))
	if s == "" {
		return Version{}, errors.New("limactl printed no version")
	}
	if s == "<unknown>" {
		return Version{Dev: true}, nil
	}
	raw := strings.TrimPrefix(s, "v")
	core, pre, _ := strings.Cut(raw, "-")
	core, build, _ := strings.Cut(core, "+")
	if pre == "" {
		pre = build
	}
	trimmed := strings.TrimSuffix(core, ".m")
	v, ok := parseCore(trimmed)
	if !ok {
		return Version{Dev: true, Raw: raw}, nil
	}
	v.Pre = pre
	if trimmed != core {
		v.Raw = raw
	}
	return v, nil
}

// parseCore reads X.Y.Z, each a decimal number.
func parseCore(s string) (Version, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, false
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p == "" || p[0] == '+' {
			return Version{}, false
		}
		n[i] = v
	}
	return Version{Major: n[0], Minor: n[1], Patch: n[2]}, true
}

// String returns the version as limactl prints it, without "v".
func (v Version) String() string {
	if v.Raw != "" {
		return v.Raw
	}
	if v.Dev {
		return "<unknown>"
	}
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than o.
func (v Version) Compare(o Version) int {
	if v.Dev || o.Dev {
		switch {
		case v.Dev && o.Dev:
			return 0
		case v.Dev:
			return 1
		default:
			return -1
		}
	}
	for _, d := range [][2]int{{v.Major, o.Major}, {v.Minor, o.Minor}, {v.Patch, o.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// AtLeast reports whether v is major.minor.0 or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Compare(Version{Major: major, Minor: minor}) >= 0
}

// TooOldError means the installed Lima is older than MinVersion.
type TooOldError struct {
	Exe   string
	Found Version
}

func (e *TooOldError) Error() string {
	return fmt.Sprintf("%s is Lima %s, but sysvm needs Lima %s or newer: upgrade Lima (e.g. `brew upgrade lima`) or point $LIMACTL at a newer limactl",
		e.Exe, e.Found, MinVersion)
}

// versionCache is the on-disk record of one limactl binary's version.
type versionCache struct {
	Exe     string `json:"exe"`
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtimeNs"`
	Version string `json:"version"`
}

const versionCacheFile = "limactl-version.json"

// Version returns the Lima version of c.Exe. It runs `limactl --version`
// once per binary: the answer is kept in memory and, when CacheDir is set,
// in a file keyed by the binary's path, size and mtime, so later processes
// pay only a stat.
func (c *Client) Version(ctx context.Context) (Version, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != nil {
		return *c.version, nil
	}
	exe, err := filepath.EvalSymlinks(c.Exe)
	if err != nil {
		return Version{}, fmt.Errorf("finding limactl %s: %w", c.Exe, err)
	}
	st, err := os.Stat(exe)
	if err != nil {
		return Version{}, fmt.Errorf("finding limactl %s: %w", c.Exe, err)
	}
	key := versionCache{Exe: exe, Size: st.Size(), ModTime: st.ModTime().UnixNano()}
	if v, ok := c.readVersionCache(key); ok {
		c.version = &v
		return v, nil
	}
	out, err := c.run(ctx, "--version")
	if err != nil {
		return Version{}, fmt.Errorf("asking limactl for its version: %w", err)
	}
	v, err := ParseVersion(string(out))
	if err != nil {
		return Version{}, fmt.Errorf("reading `%s --version`: %w", c.Exe, err)
	}
	c.version = &v
	key.Version = v.String()
	c.writeVersionCache(key)
	return v, nil
}

func (c *Client) readVersionCache(key versionCache) (Version, bool) {
	if c.CacheDir == "" {
		return Version{}, false
	}
	b, err := os.ReadFile(filepath.Join(c.CacheDir, versionCacheFile))
	if err != nil {
		return Version{}, false
	}
	var got versionCache
	if json.Unmarshal(b, &got) != nil || got.Exe != key.Exe || got.Size != key.Size || got.ModTime != key.ModTime {
		return Version{}, false
	}
	v, err := ParseVersion(got.Version)
	return v, err == nil
}

// writeVersionCache records key; a failure only costs the next process one
// `limactl --version`, so it is logged, not returned.
func (c *Client) writeVersionCache(key versionCache) {
	if c.CacheDir == "" {
		return
	}
	b, _ := json.Marshal(key)
	err := os.MkdirAll(c.CacheDir, 0o700)
	if err == nil {
		err = files.Replace(filepath.Join(c.CacheDir, versionCacheFile), b, 0o600)
	}
	if err != nil && c.Log != nil {
		c.Log.Debug("caching the limactl version", "err", err)
	}
}

// CheckVersion returns the Lima version, or a *TooOldError when it is older
// than MinVersion.
func (c *Client) CheckVersion(ctx context.Context) (Version, error) {
	v, err := c.Version(ctx)
	if err != nil {
		return v, err
	}
	if v.Compare(MinVersion) < 0 {
		return v, &TooOldError{Exe: c.Exe, Found: v}
	}
	return v, nil
}
