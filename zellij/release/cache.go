package release

import (
	"archive/tar"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sysvm/sysvm/state"
	"github.com/sysvm/sysvm/ui"
)

// Size caps: the 0.45.0 tarballs are about 15 MiB and the binary about
// 40 MiB; the caps leave room for growth and stop a runaway server.
const (
	maxTarball = 256 << 20
	maxBinary  = 512 << 20
	maxSumFile = 4 << 10
)

// idleTimeout ends a download that has received nothing for this long.
const idleTimeout = 60 * time.Second

// Cache is the host's copy of the pinned release, downloaded once per
// source and shared by the VMs that use that source: the release on GitHub
// in <Dir>/<Version>/<target>/zellij, a mirror in
// <Dir>/<Version>/<target>-<hash of its URL>/zellij. The digest recorded on
// first sight is kept per source too, so one project's mirror never decides
// what another project installs.
type Cache struct {
	// Dir is the cache root (see DefaultCacheDir).
	Dir string
	// Digests is the JSON file that records the digest first seen for each
	// asset (see DigestsFile).
	Digests string
	// Base is the download directory (see Base): the source.
	Base string
	// Pin, when set, is the sha256 the user requires of the binary
	// (zellij.sha256 in sysvm.yaml), in lowercase hex.
	Pin string
	// Client downloads the assets; nil means a client with timeouts.
	Client *http.Client
	// UI shows download progress; nil means quiet.
	UI *ui.UI
}

// DefaultCacheDir returns $XDG_CACHE_HOME/sysvm/zellij, else
// ~/.cache/sysvm/zellij.
func DefaultCacheDir(getenv func(string) string) string {
	if d := getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "sysvm", "zellij")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "sysvm", "zellij")
}

// DigestsFile is where the digests seen are recorded in sysvm's state.
func DigestsFile(d state.Dir) string { return d.Path("zellij-digests.json") }

// Binary is a verified zellij in the host's cache.
type Binary struct {
	// Path is the cache entry.
	Path string
	// Target is the Rust target it was built for.
	Target string
	// SHA256 is its verified digest, in lowercase hex.
	SHA256 string
}

// AssetDir is the cache directory of target's release from c's source; a
// tarball and its .sha256sum placed there by hand are used instead of
// downloading them.
func (c *Cache) AssetDir(target string) string {
	if c.mirror() {
		return filepath.Join(c.Dir, Version, target+"-"+sourceID(c.Base))
	}
	return filepath.Join(c.Dir, Version, target)
}

// mirror reports whether c downloads from somewhere other than the release.
func (c *Cache) mirror() bool { return c.Base != "" && c.Base != DefaultBase }

// sourceID names a download directory in the cache's paths.
func sourceID(base string) string {
	sum := sha256.Sum256([]byte(base))
	return hex.EncodeToString(sum[:6])
}

// Fetch returns the verified binary for target, downloading the release
// into the cache the first time. Concurrent calls, in this process or
// others, download once: the cache is locked while it is filled. Nothing
// that fails verification is kept.
func (c *Cache) Fetch(ctx context.Context, target string) (Binary, error) {
	dir := c.AssetDir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binary{}, fmt.Errorf("creating the zellij cache %s: %w (check that it is writable, or set XDG_CACHE_HOME)", dir, err)
	}
	lock, err := state.LockFile(filepath.Join(c.Dir, ".lock"))
	if err != nil {
		return Binary{}, err
	}
	defer lock.Unlock()

	bin := Binary{Path: filepath.Join(dir, "zellij"), Target: target}
	recorded, err := c.recorded(target)
	if err != nil {
		return Binary{}, err
	}
	if sum, err := fileSum(bin.Path); err == nil {
		if known := cmp.Or(published[target], recorded); known != "" && sum == known {
			if err := c.checkPin(bin.Path, sum); err != nil {
				return Binary{}, err
			}
			bin.SHA256 = sum
			return bin, nil
		}
		// Corrupt, or verified under digests that are gone: fetch it anew.
		_ = os.Remove(bin.Path)
	}

	a := Asset{Target: target, Base: c.Base}
	src := c.source(a, dir)
	sumText, err := src.sum(ctx)
	if err != nil {
		return Binary{}, err
	}
	want, err := ParseSum(sumText)
	if err != nil {
		return Binary{}, &ArchiveError{Source: src.sumName, Reason: err.Error()}
	}
	if p := published[target]; p != "" && p != want {
		return Binary{}, &VerifyError{Source: src.sumName, Got: want, Want: p, WantFrom: "sysvm's table of published digests"}
	}
	if recorded != "" && recorded != want {
		return Binary{}, &ChangedError{Target: target, Key: c.digestKey(target), Recorded: c.Digests, Was: recorded, Now: want}
	}
	tmp, got, err := src.extract(ctx, dir)
	if err != nil {
		return Binary{}, err
	}
	defer os.Remove(tmp)
	if got != want {
		return Binary{}, &VerifyError{Source: src.tarballName, Got: got, Want: want, WantFrom: src.sumName}
	}
	if err := c.checkPin(src.tarballName, got); err != nil {
		return Binary{}, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Binary{}, err
	}
	if recorded == "" {
		if err := c.record(target, want); err != nil {
			return Binary{}, err
		}
	}
	if err := os.Rename(tmp, bin.Path); err != nil {
		return Binary{}, fmt.Errorf("storing zellij in the cache: %w", err)
	}
	bin.SHA256 = want
	return bin, nil
}

// checkPin refuses a binary from source whose digest sum is not the one
// the user pinned.
func (c *Cache) checkPin(source, sum string) error {
	if c.Pin == "" || sum == c.Pin {
		return nil
	}
	return &VerifyError{Source: source, Got: sum, Want: c.Pin, WantFrom: "zellij.sha256 in sysvm.yaml", Pinned: true}
}

// Known returns the digest a target's binary must have without fetching
// anything: the user's pin, else the published one, else the one recorded
// for c's source, else "".
func (c *Cache) Known(target string) string {
	rec, _ := c.recorded(target)
	return cmp.Or(c.Pin, published[target], rec)
}

// digestKey names target's recorded digest: "<version>/<target>" for the
// release, with " from <URL>" added for a mirror.
func (c *Cache) digestKey(target string) string {
	if c.mirror() {
		return Version + "/" + target + " from " + c.Base
	}
	return Version + "/" + target
}

func (c *Cache) readDigests() (map[string]string, error) {
	m := map[string]string{}
	b, err := os.ReadFile(c.Digests)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading the recorded zellij digests: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("the recorded zellij digests in %s are not valid JSON: %v (remove the file to start afresh)", c.Digests, err)
	}
	return m, nil
}

func (c *Cache) recorded(target string) (string, error) {
	m, err := c.readDigests()
	return m[c.digestKey(target)], err
}

// record adds target's digest; the caller holds the cache lock.
func (c *Cache) record(target, sum string) error {
	m, err := c.readDigests()
	if err != nil {
		return err
	}
	m[c.digestKey(target)] = sum
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.Digests), 0o700); err != nil {
		return fmt.Errorf("recording the zellij digest: %w", err)
	}
	if err := state.WriteFile(c.Digests, append(b, '\n')); err != nil {
		return fmt.Errorf("recording the zellij digest in %s: %w", c.Digests, err)
	}
	return nil
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// source is where one asset pair is read from: files placed in the cache
// by hand when both are there, else the download directory.
type source struct {
	c                    *Cache
	a                    Asset
	dir                  string
	local                bool
	sumName, tarballName string
}

func (c *Cache) source(a Asset, dir string) source {
	s := source{c: c, a: a, dir: dir, sumName: a.SumURL(), tarballName: a.TarballURL()}
	tb, sf := filepath.Join(dir, a.Tarball()), filepath.Join(dir, a.SumFile())
	if isFile(tb) && isFile(sf) {
		s.local, s.sumName, s.tarballName = true, sf, tb
	}
	return s
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func (s source) fetchError(url string, err error) error {
	return &FetchError{URL: url, Dir: s.dir, Asset: s.a, Err: err}
}

func (s source) sum(ctx context.Context) ([]byte, error) {
	body, _, err := s.open(ctx, s.sumName)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxSumFile+1))
	if err != nil {
		return nil, s.fetchError(s.sumName, err)
	}
	if len(b) > maxSumFile {
		return nil, &ArchiveError{Source: s.sumName, Reason: "the checksum file is larger than 4 KiB"}
	}
	return b, nil
}

// open returns the body of name, a file or an URL, and its size (-1 when
// unknown).
func (s source) open(ctx context.Context, name string) (io.ReadCloser, int64, error) {
	if s.local {
		f, err := os.Open(name)
		if err != nil {
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, fi.Size(), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, name, nil)
	if err != nil {
		return nil, 0, s.fetchError(name, err)
	}
	resp, err := s.c.client().Do(req)
	if err != nil {
		return nil, 0, s.fetchError(name, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, 0, s.fetchError(name, fmt.Errorf("the server answered %s", resp.Status))
	}
	return resp.Body, resp.ContentLength, nil
}

// extract streams the tarball and writes its zellij to a temporary file in
// dir. It returns the file and its sha256; on error nothing is left behind.
func (s source) extract(ctx context.Context, dir string) (tmp, sum string, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body, size, err := s.open(ctx, s.tarballName)
	if err != nil {
		return "", "", err
	}
	defer body.Close()
	if size > maxTarball {
		return "", "", &ArchiveError{Source: s.tarballName, Reason: fmt.Sprintf("it is %d bytes, more than the %d allowed", size, maxTarball)}
	}
	in := &reader{r: io.LimitReader(body, maxTarball+1), p: s.c.progress(s.tarballName, size)}
	if !s.local {
		// A stalled server cancels the request, which ends the read.
		in.idle = time.AfterFunc(idleTimeout, func() { cancel(fmt.Errorf("nothing received for %s", idleTimeout)) })
		defer in.idle.Stop()
	}
	tmp, sum, err = s.unpack(in, dir)
	in.p.done(err == nil)
	switch {
	case in.err != nil && !errors.Is(in.err, io.EOF):
		// The transfer failed; whatever the archive reader made of it is
		// a consequence.
		os.Remove(tmp)
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			in.err = cause
		}
		return "", "", s.fetchError(s.tarballName, in.err)
	case in.n > maxTarball:
		os.Remove(tmp)
		return "", "", &ArchiveError{Source: s.tarballName, Reason: fmt.Sprintf("it is larger than the %d bytes allowed", maxTarball)}
	case err != nil:
		os.Remove(tmp)
		return "", "", err
	}
	return tmp, sum, nil
}

func (s source) unpack(in io.Reader, dir string) (tmp, sum string, err error) {
	bad := func(reason string) (string, string, error) {
		return "", "", &ArchiveError{Source: s.tarballName, Reason: reason}
	}
	gz, err := gzip.NewReader(in)
	if err != nil {
		return bad("not gzip: " + err.Error())
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return bad("it has no file named zellij at its root")
		} else if err != nil {
			return bad("reading the archive: " + err.Error())
		}
		if filepath.Clean(h.Name) != "zellij" {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return bad("its zellij is not a regular file")
		}
		if h.Size > maxBinary {
			return bad(fmt.Sprintf("its zellij is %d bytes, more than the %d allowed", h.Size, maxBinary))
		}
		f, err := os.CreateTemp(dir, ".zellij-*.tmp")
		if err != nil {
			return "", "", fmt.Errorf("writing to the zellij cache: %w", err)
		}
		hash := sha256.New()
		_, err = io.Copy(io.MultiWriter(f, hash), tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return bad("reading its zellij: " + err.Error())
		}
		return f.Name(), hex.EncodeToString(hash.Sum(nil)), nil
	}
}

// reader counts what passes through it, reports progress, keeps the idle
// timer from firing while bytes arrive, and remembers the read error.
type reader struct {
	r    io.Reader
	n    int64
	p    *progress
	idle *time.Timer
	err  error
}

func (r *reader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if n > 0 {
		r.n += int64(n)
		r.p.add(n)
		if r.idle != nil {
			r.idle.Reset(idleTimeout)
		}
	}
	if err != nil {
		r.err = err
	}
	return n, err
}

func (c *Cache) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	// No overall timeout: a slow link may take minutes; the idle timer
	// ends a stalled transfer instead.
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}}
}
