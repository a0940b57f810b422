// Package limaconfig builds a project's Lima config from the embedded base
// template, the project's settings and the host, with yaml.v3 nodes rather
// than text, and merges the user's `lima:` block over it. It only returns
// bytes: it never writes the config to disk or runs limactl (package vm
// does both).
package limaconfig

import (
	"cmp"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sysvm/sysvm/project"
	"gopkg.in/yaml.v3"
)

// Settings are the VM's resources and extras after flags, the environment
// and sysvm.yaml have been combined. Zero values mean "the default".
type Settings struct {
	CPUs         int
	Memory       string
	Disk         string
	Image        string
	Ports        []Port
	Provision    string
	ForwardAgent bool
	// Lima is merged over the generated config (from sysvm.yaml's `lima:`).
	Lima *yaml.Node
	// Idle is the idle stop period; 0 is off. It is no part of the Lima
	// config: the broker process reads it from sysvm's record of the VM.
	Idle time.Duration
}

// Port is one forwarded TCP port.
type Port struct {
	Host, Guest int
}

// Overrides are settings given on the command line; empty fields are unset.
type Overrides struct {
	CPUs   int
	Memory string
	Disk   string
	Image  string
	Ports  []string
}

// Env variable names read by Resolve, so `.envrc` can override sysvm.yaml.
const (
	EnvCPUs   = "VM_CPUS"
	EnvMemory = "VM_MEMORY"
	EnvDisk   = "VM_DISK"
	EnvPorts  = "VM_PORTS"
	EnvImage  = "VM_IMAGE"
	// EnvIdle is the user's idle stop period for every project.
	EnvIdle = "SYSVM_IDLE_STOP"
)

// Resolve combines, highest first, the command-line overrides, the VM_*
// environment variables (read through getenv) and the project's sysvm.yaml.
func Resolve(p *project.Project, o Overrides, getenv func(string) string) (Settings, error) {
	f := p.File
	s := Settings{Provision: f.Provision, ForwardAgent: f.ForwardAgent}
	if f.Lima.Kind != 0 {
		n := f.Lima
		s.Lima = &n
	}

	cpus := cmp.Or(itoa(o.CPUs), getenv(EnvCPUs), itoa(f.CPUs))
	if cpus != "" {
		n, err := strconv.Atoi(strings.TrimSpace(cpus))
		if err != nil || n < 1 || n > 512 {
			return s, fmt.Errorf("cpus %q is not a whole number between 1 and 512", cpus)
		}
		s.CPUs = n
	}
	var err error
	if s.Memory, err = size("memory", cmp.Or(o.Memory, getenv(EnvMemory), f.Memory)); err != nil {
		return s, err
	}
	if s.Disk, err = size("disk", cmp.Or(o.Disk, getenv(EnvDisk), f.Disk)); err != nil {
		return s, err
	}
	if img := cmp.Or(o.Image, getenv(EnvImage), f.Image); img != "" {
		if !strings.Contains(img, "://") && !filepath.IsAbs(img) && !strings.HasPrefix(img, "~") {
			img = filepath.Join(p.Dir, img)
		}
		s.Image = img
	}
	ports := f.Ports
	if v := getenv(EnvPorts); v != "" {
		ports = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	if len(o.Ports) > 0 {
		ports = o.Ports
	}
	for _, spec := range ports {
		pt, err := ParsePort(spec)
		if err != nil {
			return s, err
		}
		s.Ports = append(s.Ports, pt)
	}
	if s.Idle, err = ParseIdle(cmp.Or(getenv(EnvIdle), f.Idle)); err != nil {
		return s, err
	}
	return s, nil
}

// ParseIdle reads an idle stop period: a Go duration of at least a second
// ("30m", "1h30m"), or "off", "0" or "" for none.
func ParseIdle(v string) (time.Duration, error) {
	switch v = strings.TrimSpace(v); v {
	case "", "0", "off":
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		return 0, fmt.Errorf("idle %q is not a period such as 30m or 1h, or off", v)
	}
	return d, nil
}

// ParsePort reads "PORT" or "HOST:GUEST".
func ParsePort(spec string) (Port, error) {
	h, g, found := strings.Cut(strings.TrimSpace(spec), ":")
	if !found {
		g = h
	}
	hp, err1 := strconv.Atoi(h)
	gp, err2 := strconv.Atoi(g)
	switch {
	case err1 != nil || err2 != nil:
		return Port{}, fmt.Errorf("port %q is not PORT or HOST:GUEST", spec)
	case hp < 1 || hp > 65535 || gp < 1 || gp > 65535:
		return Port{}, fmt.Errorf("port %q is out of range 1-65535", spec)
	case hp == 22 || gp == 22:
		return Port{}, fmt.Errorf("port %q: 22 is the VM's own SSH port and cannot be forwarded", spec)
	}
	return Port{Host: hp, Guest: gp}, nil
}

var sizeRE = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?$`)

// size normalises a memory or disk size; a bare number means GiB.
func size(what, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("%s %q is not a size such as 8GiB or 512MiB", what, v)
	}
	if f, _ := strconv.ParseFloat(m[1], 64); f <= 0 {
		return "", fmt.Errorf("%s %q must be more than zero", what, v)
	}
	if m[2] == "" {
		return m[1] + "GiB", nil
	}
	return m[1] + m[2], nil
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
