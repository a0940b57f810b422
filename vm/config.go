package vm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/files"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"gopkg.in/yaml.v3"
)

// The project's Lima config: written when missing, regenerated while it
// is sysvm's own unedited file, and read for the host ports it forwards.

// ConfigError is a .lima/config.yaml that is not valid YAML.
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s is not valid YAML: %v", e.Path, e.Err)
}

func configError(path string, err error) error {
	return hint.Wrap(&ConfigError{Path: path, Err: err},
		"fix the file, or move it away and run `sysvm up` to generate a new one")
}

// Config is the state of a project's .lima/config.yaml.
type Config struct {
	Path string
	// Exists is false until `sysvm up` writes it.
	Exists bool
	// Edited means the user changed the file: sysvm uses it as it is and
	// never regenerates it.
	Edited bool
	// Differs means the file is not what `sysvm config` generates now.
	Differs bool
	// Bytes is the config the VM is created from: the file as the project
	// was loaded (project.Snapshot), or what sysvm generated. limactl is
	// never handed the project's file itself, only a private copy of these
	// bytes.
	Bytes []byte
}

// EnsureConfig writes the project's Lima config when it is missing, and
// regenerates it when it is the file sysvm last wrote there (allow.Generated)
// and the settings changed. A file the user edited is never overwritten.
// It works on the bytes read when the project was loaded, never on the file
// read again.
func (m *Manager) EnsureConfig(p *project.Project, s limaconfig.Settings) (Config, error) {
	gen, err := limaconfig.Generate(p, s, m.Host)
	if err != nil {
		return Config{}, err
	}
	c := Config{Path: p.LimaConfig(), Exists: true, Bytes: gen}
	cur := p.Snap.LimaConfig
	if cur == nil {
		if err := p.CheckLimaDir(); err != nil {
			return c, err
		}
		if err := os.MkdirAll(filepath.Dir(c.Path), 0o755); err != nil {
			return c, fmt.Errorf("creating %s: %w", filepath.Dir(c.Path), err)
		}
		// Recorded before it is written: a sysvm that loads the project in
		// between must find the file sysvm's own. Another sysvm may have
		// just written it: its file stays, and this one creates the VM from
		// what it generated.
		if err := allow.Generated(m.State, p.Dir, gen); err != nil {
			return c, err
		}
		if _, err := files.CreateNew(c.Path, gen, 0o644); err != nil {
			return c, fmt.Errorf("writing %s: %w", c.Path, err)
		}
		return c, nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal(cur, &n); err != nil {
		return c, configError(c.Path, err)
	}
	switch {
	case bytes.Equal(cur, gen):
		// What sysvm would write anyway: its own, whoever wrote it.
		return c, allow.Generated(m.State, p.Dir, gen)
	case !allow.IsGenerated(m.State, p.Dir, cur):
		c.Edited, c.Differs, c.Bytes = true, true, cur
		return c, nil
	}
	if err := p.CheckLimaDir(); err != nil {
		return c, err
	}
	if err := allow.Generated(m.State, p.Dir, gen); err != nil {
		return c, err
	}
	if err := files.Replace(c.Path, gen, 0o644); err != nil {
		return c, fmt.Errorf("regenerating %s: %w", c.Path, err)
	}
	m.Progress.Say("settings changed: regenerated %s", c.Path)
	return c, nil
}

// ConfigState inspects the project's config without writing anything.
func (m *Manager) ConfigState(p *project.Project, s limaconfig.Settings) Config {
	c := Config{Path: p.LimaConfig()}
	cur := p.Snap.LimaConfig
	if cur == nil {
		return c
	}
	c.Exists, c.Bytes = true, cur
	gen, err := limaconfig.Generate(p, s, m.Host)
	c.Differs = err != nil || !bytes.Equal(gen, cur)
	c.Edited = c.Differs && !allow.IsGenerated(m.State, p.Dir, cur)
	return c
}

// configPorts lists the host ports a Lima config forwards explicitly.
func configPorts(path string, b []byte) ([]int, error) {
	var c struct {
		PortForwards []struct {
			GuestPort int  `yaml:"guestPort"`
			HostPort  int  `yaml:"hostPort"`
			Ignore    bool `yaml:"ignore"`
		} `yaml:"portForwards"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, configError(path, err)
	}
	var out []int
	for _, f := range c.PortForwards {
		if f.Ignore {
			continue
		}
		if p := f.HostPort; p > 0 {
			out = append(out, p)
		} else if f.GuestPort > 0 {
			out = append(out, f.GuestPort)
		}
	}
	return out, nil
}
