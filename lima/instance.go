package lima

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// The files of an instance directory ($LIMA_HOME/<name>) that sysvm reads
// (Lima v1.2.2 and v2.2.0 pkg/limatype/filenames). Lima keeps them private:
// this package is the only one in sysvm that knows them.
const (
	// configFile is the instance's Lima config; a directory without it is
	// left by an interrupted create or delete.
	configFile = "lima.yaml"
	// sshConfigFile is the OpenSSH config Lima writes at every start.
	sshConfigFile = "ssh.config"
	// haEventsFile holds the host agent's events, one JSON object per line.
	haEventsFile = "ha.stdout.log"
	// haLogFile is the host agent's log (logrus text lines).
	haLogFile = "ha.stderr.log"
	// haPIDFile names the host agent's pid; the driver's is <vmType>.pid.
	haPIDFile = "ha.pid"
)

// sockets are the instance's unix sockets: the host agent's and the SSH
// control master's.
var sockets = []string{"ha.sock", "ssh.sock"}

// longestSocket is the longest socket path Lima makes in an instance
// directory: ssh.sock plus OpenSSH's 16-character temporary suffix.
const longestSocket = "/ssh.sock.1234567890123456"

// SocketPathLen returns the length of the longest socket path Lima makes
// for the instance name under LIMA_HOME home; Lima requires it to be
// shorter than the host's UNIX_PATH_MAX.
func SocketPathLen(home, name string) int {
	return len(home) + 1 + len(name) + len(longestSocket)
}

// InstanceAt returns the instance name under LIMA_HOME home as its
// directory shows it, without running limactl: only Name and Dir are set,
// which is what the methods reading its files need.
func InstanceAt(home, name string) *Instance {
	return &Instance{Name: name, Dir: filepath.Join(home, name)}
}

// InstanceOf returns, in the same way, the instance whose ssh.config is at
// path (an [Instance.SSHConfig]).
func InstanceOf(sshConfig string) *Instance {
	dir := filepath.Dir(sshConfig)
	return &Instance{Name: filepath.Base(dir), Dir: dir, SSHConfigFile: sshConfig}
}

// SSHConfig is where Lima wrote the instance's ssh.config: the path
// limactl reported, else its place in the instance directory.
func (i *Instance) SSHConfig() string {
	if i.SSHConfigFile != "" {
		return i.SSHConfigFile
	}
	return filepath.Join(i.Dir, sshConfigFile)
}

// HostAgentLog is the host agent's log: where a failed or slow start says
// why, and what boot progress shows.
func (i *Instance) HostAgentLog() string { return filepath.Join(i.Dir, haLogFile) }

// MissingConfig returns the name of the Lima config file the instance's
// directory lacks (left by an interrupted create or delete), as
// limactl or List reported it, or as the directory of a Broken instance
// shows it; "" when that is not what is wrong.
func (i *Instance) MissingConfig() string {
	for _, pr := range i.Problems {
		if strings.Contains(pr, configFile) {
			return configFile
		}
	}
	if i.Status == StatusBroken && i.Dir != "" {
		if _, err := os.Lstat(i.config()); errors.Is(err, os.ErrNotExist) {
			return configFile
		}
	}
	return ""
}

// config is the instance's Lima config file.
func (i *Instance) config() string { return filepath.Join(i.Dir, configFile) }

// watchesCloudInit reports whether Lima's host agent watches cloud-init
// for the config at path: only for a Linux guest that is not `plain`
// (Lima v2.2.0 pkg/hostagent/hostagent.go:654). An unreadable config
// counts as not watched.
func watchesCloudInit(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var cfg struct {
		Plain *bool   `yaml:"plain"`
		OS    *string `yaml:"os"`
	}
	if yaml.Unmarshal(b, &cfg) != nil {
		return false
	}
	return (cfg.Plain == nil || !*cfg.Plain) && (cfg.OS == nil || *cfg.OS == "" || strings.EqualFold(*cfg.OS, "Linux"))
}

// Mounts returns the host directories the instance's Lima config mounts,
// absolute, with `~` expanded and symbolic links resolved where they
// exist; nil when the instance has no config.
func (i *Instance) Mounts() ([]string, error) {
	path := i.config()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var cfg struct {
		Mounts []struct {
			Location string `yaml:"location"`
		} `yaml:"mounts"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("reading the mounts of %s: %w", path, err)
	}
	var out []string
	for _, m := range cfg.Mounts {
		loc := m.Location
		if loc == "~" || strings.HasPrefix(loc, "~/") {
			home, err := os.UserHomeDir()
			if err != nil {
				return nil, fmt.Errorf("expanding mount %q of %s: %w", loc, path, err)
			}
			loc = filepath.Join(home, loc[1:])
		}
		if loc == "" {
			continue
		}
		loc = filepath.Clean(loc)
		if r, err := filepath.EvalSymlinks(loc); err == nil {
			loc = r
		}
		out = append(out, loc)
	}
	return out, nil
}
