package project

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/sysvm/sysvm/display"
	"github.com/sysvm/sysvm/hint"

	"gopkg.in/yaml.v3"
)

// File is the schema of sysvm.yaml. Every field is optional.
type File struct {
	// Name overrides the slug derived from the directory name.
	Name string `yaml:"name,omitempty"`
	// CPUs, Memory, Disk size the VM ("4", "8GiB", "50GiB").
	CPUs   int    `yaml:"cpus,omitempty"`
	Memory string `yaml:"memory,omitempty"`
	Disk   string `yaml:"disk,omitempty"`
	// Image is a Lima image location: a URL or a local qcow2 path.
	Image string `yaml:"image,omitempty"`
	// Ports lists forwarded ports as "PORT" or "HOST:GUEST".
	Ports []string `yaml:"ports,omitempty"`
	// Provision is a shell script run as root at every boot.
	Provision string `yaml:"provision,omitempty"`
	// Layout is a Zellij layout file, relative to the project directory.
	Layout string `yaml:"layout,omitempty"`
	// ForwardAgent forwards the host's SSH agent into the VM.
	ForwardAgent bool `yaml:"forwardAgent,omitempty"`
	// Idle turns on idle stop: "30m" stops the VM after 30 minutes with no
	// client and a quiet guest; "off" (or "0") turns it off.
	Idle string `yaml:"idle,omitempty"`
	// Zellij says which Zellij runs in the VM.
	Zellij Zellij `yaml:"zellij,omitempty"`
	// Lima is merged over the generated Lima config, key by key.
	Lima yaml.Node `yaml:"lima,omitempty"`
}

// Zellij is the zellij: block of sysvm.yaml. By default sysvm uses the
// guest's own zellij when it is new enough and installs its pinned release
// otherwise.
type Zellij struct {
	// Path is the guest's zellij to use instead of the first on its PATH.
	Path string `yaml:"path,omitempty"`
	// URL replaces the release's download directory (a mirror): https://,
	// or http:// on a loopback address only (see checkZellij).
	URL string `yaml:"url,omitempty"`
	// SHA256 pins the digest the installed binary must have, in hex.
	SHA256 string `yaml:"sha256,omitempty"`
	// Install set to false never installs: the guest must have a zellij.
	Install *bool `yaml:"install,omitempty"`
}

// NoInstall reports whether the file turns installation off.
func (z Zellij) NoInstall() bool { return z.Install != nil && !*z.Install }

// ParseFile parses the contents of the sysvm.yaml at path.
func ParseFile(b []byte, path string) (File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return File{}, fmt.Errorf("%s is not valid: %v", path, err)
	}
	if f.Lima.Kind != 0 && f.Lima.Kind != yaml.MappingNode {
		return File{}, fmt.Errorf("%s: line %d: `lima:` must be a mapping of Lima config keys", path, f.Lima.Line)
	}
	if err := checkZellij(&f.Zellij); err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// checkZellij validates the zellij: block and lowercases its sha256. A
// mirror named in a project file must be https://, or http:// on a
// loopback address: plain http from anywhere else would let the network
// choose the binary. The user's own SYSVM_ZELLIJ_URL is not bound by this.
func checkZellij(z *Zellij) error {
	if z.SHA256 != "" {
		z.SHA256 = strings.ToLower(strings.TrimSpace(z.SHA256))
		if _, err := hex.DecodeString(z.SHA256); err != nil || len(z.SHA256) != 64 {
			return hint.Wrap(fmt.Errorf("zellij.sha256 %s is not a sha256 (64 hex digits)", display.Line(z.SHA256)),
				"set it to the sha256 of the zellij binary (not of the tarball), as in the release's .sha256sum")
		}
	}
	if z.URL == "" {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(z.URL))
	switch {
	case err != nil || u.Host == "":
		return hint.Wrap(fmt.Errorf("zellij.url %s is not a URL", display.Line(z.URL)),
			"name the directory that holds the release's files, e.g. https://mirror.example/zellij/v0.45.0")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return hint.Wrap(fmt.Errorf("zellij.url %s is plain http:// to a host that is not loopback; a project file may name only an https:// mirror or one on this host (127.0.0.1, ::1, localhost)", display.Line(z.URL)),
			"use the mirror's https:// address",
			"or, if you trust that network, set SYSVM_ZELLIJ_URL in your own environment instead and remove zellij.url from sysvm.yaml")
	}
	return hint.Wrap(fmt.Errorf("zellij.url %s is not an https:// URL", display.Line(z.URL)),
		"use the mirror's https:// address")
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
