package release

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sysvm/sysvm/zellij"
)

// Runner runs one command in the guest over a connection the caller holds.
// cmd is a complete command line for the guest user's login shell; stdin,
// when not nil, is copied to the command's standard input and then closed.
// code is the command's exit status; err means it could not run or its
// status was lost.
type Runner interface {
	Output(ctx context.Context, cmd string, stdin io.Reader) (stdout, stderr []byte, code int, err error)
}

// Options are the zellij: settings of a project that concern the guest.
type Options struct {
	// VM names the guest in messages.
	VM string
	// Path is the guest's zellij to use (zellij.path); empty means the
	// first zellij on the guest's PATH.
	Path string
	// NoInstall never installs (zellij.install: false): a guest without a
	// usable zellij is an error.
	NoInstall bool
}

// Zellij is the zellij a guest runs.
type Zellij struct {
	// Path is the absolute path to run in the guest.
	Path string `json:"path"`
	// Version is what it reports.
	Version string `json:"version"`
	// Installed is true when sysvm installed it.
	Installed bool `json:"installedBySysvm"`
}

// installDir is the guest directory sysvm installs into, as a shell
// snippet that sets $d; XDG_DATA_HOME counts only when absolute, as the
// XDG spec says.
const installDir = `d=${XDG_DATA_HOME:-$HOME/.local/share}
case $d in /*) ;; *) d=$HOME/.local/share ;; esac
d=$d/sysvm/bin
`

// installName is the installed binary's file name; the version in it lets
// a new pin install beside a running old one.
const installName = "zellij-" + Version

// probeScript reports, one "key value" line each: the guest's machine,
// the zellij it would use of its own ($1, looked up on PATH) and its
// version, and sysvm's install path with its sha256 when it exists. One
// round trip answers the warm path.
const probeScript = `printf 'machine %s\n' "$(uname -m)"
if z=$(command -v "$1" 2>/dev/null) && [ -n "$z" ]; then
  case $z in /*) ;; *) z=$PWD/$z ;; esac
  printf 'own %s\n' "$z"
  printf 'version %s\n' "$("$z" --version 2>/dev/null | head -n 1)"
fi
` + installDir + `printf 'installed %s\n' "$d/$2"
if [ -f "$d/$2" ] && s=$(sha256sum "$d/$2" 2>/dev/null); then printf 'sha256 %s\n' "${s%% *}"; fi
`

// installScript copies stdin to a temporary file beside the target,
// checks its sha256 ($2) in the guest, and renames it into place as $1
// with mode 0755, so a broken transfer never becomes the installed file.
const installScript = `set -e
` + installDir + `mkdir -p "$d"
t=$(mktemp "$d/.$1.XXXXXX")
trap 'rm -f "$t"' EXIT
trap 'rm -f "$t"; exit 1' HUP INT TERM
cat >"$t"
s=$(sha256sum "$t")
if [ "${s%% *}" != "$2" ]; then
  printf 'the copy in the VM has sha256 %s, not %s\n' "${s%% *}" "$2" >&2
  exit 3
fi
chmod 0755 "$t"
mv -f "$t" "$d/$1"
trap - EXIT
printf '%s\n' "$d/$1"
`

// probe is what probeScript found.
type probe struct {
	machine, own, version, installed, sum string
}

func probeGuest(ctx context.Context, r Runner, o Options) (probe, error) {
	name := o.Path
	if name == "" {
		name = zellij.Bin
	}
	line := zellij.Command{Argv: []string{"/bin/sh", "-c", probeScript, "sh", name, installName}}.Line()
	out, errOut, code, err := r.Output(ctx, line, nil)
	if err != nil {
		return probe{}, fmt.Errorf("looking for zellij in the VM %s: %w", o.VM, err)
	}
	if code != 0 {
		return probe{}, fmt.Errorf("looking for zellij in the VM %s failed (exit %d): %s", o.VM, code, strings.TrimSpace(string(errOut)))
	}
	var p probe
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "machine":
			p.machine = v
		case "own":
			p.own = v
		case "version":
			p.version = v
		case "installed":
			p.installed = v
		case "sha256":
			p.sum = v
		}
	}
	return p, nil
}

// Inspect reports the zellij the guest would run without installing or
// downloading anything (for `sysvm status`): its own when it is good
// enough, else sysvm's installed copy when its digest is known and
// matches. ok is false when neither is there.
func Inspect(ctx context.Context, r Runner, c *Cache, o Options) (z Zellij, ok bool, err error) {
	p, err := probeGuest(ctx, r, o)
	if err != nil {
		return Zellij{}, false, err
	}
	z, ok = p.ready(c)
	return z, ok, nil
}

// ready is the zellij the probe found usable as it stands.
func (p probe) ready(c *Cache) (Zellij, bool) {
	if v, ok := ParseVersion(p.version); ok && p.own != "" && Supported(v) {
		return Zellij{Path: p.own, Version: v}, true
	}
	target, err := Target(p.machine)
	if err != nil || p.sum == "" {
		return Zellij{}, false
	}
	if known := c.Known(target); known != "" && known == p.sum {
		return Zellij{Path: p.installed, Version: Version, Installed: true}, true
	}
	return Zellij{}, false
}

// Ensure returns the zellij to run in the guest, installing the pinned
// release when the guest has none that sysvm supports. The warm path (a
// good zellij already there) costs one remote command; an install costs a
// second one that copies the verified binary over r's stdin.
func Ensure(ctx context.Context, r Runner, c *Cache, o Options) (Zellij, error) {
	p, err := probeGuest(ctx, r, o)
	if err != nil {
		return Zellij{}, err
	}
	if z, ok := p.ready(c); ok {
		return z, nil
	}
	if o.NoInstall {
		if v, ok := ParseVersion(p.version); ok && p.own != "" {
			return Zellij{}, &TooOldError{VM: o.VM, Path: p.own, Version: v}
		}
		return Zellij{}, &zellij.MissingError{VM: o.VM}
	}
	target, err := Target(p.machine)
	if err != nil {
		return Zellij{}, err
	}
	bin, err := c.Fetch(ctx, target)
	if err != nil {
		return Zellij{}, err
	}
	if p.sum == bin.SHA256 {
		return Zellij{Path: p.installed, Version: Version, Installed: true}, nil
	}
	path, err := install(ctx, r, o.VM, bin)
	if err != nil {
		return Zellij{}, err
	}
	return Zellij{Path: path, Version: Version, Installed: true}, nil
}

func install(ctx context.Context, r Runner, vm string, bin Binary) (string, error) {
	f, err := os.Open(bin.Path)
	if err != nil {
		return "", fmt.Errorf("reading zellij from the cache: %w", err)
	}
	defer f.Close()
	line := zellij.Command{Argv: []string{"/bin/sh", "-c", installScript, "sh", installName, bin.SHA256}}.Line()
	out, errOut, code, err := r.Output(ctx, line, f)
	if err != nil {
		return "", fmt.Errorf("copying zellij into the VM %s: %w", vm, err)
	}
	if code != 0 {
		return "", fmt.Errorf("installing zellij into the VM %s failed (exit %d): %s (the VM needs sh, mktemp and sha256sum; retry the attach)", vm, code, strings.TrimSpace(string(errOut)))
	}
	path := strings.TrimSpace(string(out))
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("installing zellij into the VM %s: the install reported %q, not an absolute path", vm, path)
	}
	return path, nil
}
