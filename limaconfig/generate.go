package limaconfig

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"

	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/templates"
	"gopkg.in/yaml.v3"
)

// Host describes the machine the VM runs on.
type Host struct {
	// OS is runtime.GOOS: "darwin" or "linux".
	OS string
	// Arch is Lima's name for the architecture: "x86_64" or "aarch64".
	Arch string
}

// ThisHost returns the Host sysvm is running on.
func ThisHost() Host {
	return Host{OS: runtime.GOOS, Arch: LimaArch(runtime.GOARCH)}
}

// LimaArch maps a Go architecture name to Lima's.
func LimaArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return goarch
}

// DefaultImages are used when no image is configured: Ubuntu LTS cloud images.
var DefaultImages = map[string]string{
	"x86_64":  "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-amd64.img",
	"aarch64": "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-arm64.img",
}

// GuestEnv returns the variables every session in the project's VM carries.
func GuestEnv(p *project.Project) map[string]string {
	return map[string]string{
		"PROJECT_NAME":   p.Slug,
		"ZELLIJ_SESSION": p.Session(),
		"SYSINIT_IN_VM":  "1",
	}
}

type image struct {
	Location string `yaml:"location"`
	Arch     string `yaml:"arch"`
}

type mount struct {
	Location   string `yaml:"location"`
	MountPoint string `yaml:"mountPoint"`
	Writable   bool   `yaml:"writable"`
}

type portForward struct {
	GuestIP        string `yaml:"guestIP,omitempty"`
	GuestPort      int    `yaml:"guestPort,omitempty"`
	GuestPortRange []int  `yaml:"guestPortRange,flow,omitempty"`
	HostPort       int    `yaml:"hostPort,omitempty"`
	Ignore         bool   `yaml:"ignore,omitempty"`
}

type provision struct {
	Mode   string `yaml:"mode"`
	Script string `yaml:"script"`
}

// Generate returns the project's Lima config as YAML.
func Generate(p *project.Project, s Settings, h Host) ([]byte, error) {
	base, err := templates.Lima.ReadFile(templates.ProjectBase)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("embedded %s: %w", templates.ProjectBase, err)
	}
	root := doc.Content[0]
	// %q: a newline or control character in the path must not escape the comment.
	doc.HeadComment = fmt.Sprintf("Lima config for the sysvm project %q (%q).\n"+
		"sysvm generated it and regenerates it when the project's settings change\n"+
		"(sysvm.yaml, VM_*), as long as it is unedited (sysvm records what it\n"+
		"wrote). Edit it freely: from then on sysvm uses it as it is, and\n"+
		"`sysvm status` says when it differs from what `sysvm config` would generate.", p.Slug, p.Dir)
	root.HeadComment = ""
	if len(root.Content) > 0 {
		root.Content[0].HeadComment = "" // the template's own preamble
	}

	vmType, mountType := "qemu", "9p"
	if h.OS == "darwin" {
		vmType, mountType = "vz", "virtiofs"
	}
	set := func(key string, v any) {
		if err == nil {
			err = setKey(root, key, v)
		}
	}
	set("vmType", vmType)
	set("arch", h.Arch)
	set("mountType", mountType)
	if s.CPUs > 0 {
		set("cpus", s.CPUs)
	}
	if s.Memory != "" {
		set("memory", s.Memory)
	}
	if s.Disk != "" {
		set("disk", s.Disk)
	}
	set("images", images(s.Image, h.Arch))
	set("mounts", []mount{{Location: p.Dir, MountPoint: p.Dir, Writable: true}})
	set("portForwards", forwards(s.Ports))
	set("env", GuestEnv(p))
	if s.ForwardAgent {
		err = setPath(root, []string{"ssh", "forwardAgent"}, true)
	}
	if s.Provision != "" {
		script := s.Provision
		if !strings.HasPrefix(script, "#!") {
			script = "#!/bin/sh\n" + script
		}
		set("provision", []provision{{Mode: "system", Script: script}})
	}
	if err != nil {
		return nil, err
	}
	if s.Lima != nil {
		merge(root, s.Lima)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func images(loc, arch string) []image {
	if loc != "" {
		return []image{{Location: loc, Arch: arch}}
	}
	return []image{
		{Location: DefaultImages["x86_64"], Arch: "x86_64"},
		{Location: DefaultImages["aarch64"], Arch: "aarch64"},
	}
}

// forwards lists the chosen ports, then rules that ignore every other port on
// both guest addresses: Lima would otherwise forward whatever the guest opens,
// and the first VM to bind a host port silently wins.
func forwards(ports []Port) []portForward {
	var out []portForward
	for _, p := range ports {
		out = append(out, portForward{GuestPort: p.Guest, HostPort: p.Host})
	}
	for _, ip := range []string{"127.0.0.1", "0.0.0.0"} {
		out = append(out, portForward{GuestIP: ip, GuestPortRange: []int{1, 65535}, Ignore: true})
	}
	return out
}

// setKey sets key in mapping m to v, replacing an existing value in place so
// the template's key order is kept.
func setKey(m *yaml.Node, key string, v any) error {
	var val yaml.Node
	if err := val.Encode(v); err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i].HeadComment = ""
			m.Content[i+1] = &val
			return nil
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &val)
	return nil
}

func setPath(m *yaml.Node, path []string, v any) error {
	for _, k := range path[:len(path)-1] {
		child := lookup(m, k)
		if child == nil {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, child)
		}
		m = child
	}
	return setKey(m, path[len(path)-1], v)
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// merge lays over onto base: mappings merge key by key, anything else
// (scalars, sequences) replaces what base had.
func merge(base, over *yaml.Node) {
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		cur := lookup(base, k.Value)
		switch {
		case cur != nil && cur.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
			merge(cur, v)
		case cur != nil:
			for j := 0; j+1 < len(base.Content); j += 2 {
				if base.Content[j].Value == k.Value {
					base.Content[j+1] = v
				}
			}
		default:
			base.Content = append(base.Content, k, v)
		}
	}
}
