// Package sshx is sysvm's own SSH client for Lima VMs: it reads the
// instance's ssh.config, dials with golang.org/x/crypto/ssh, checks the
// VM's host key against its pin (and makes the pin only on a dial told it
// may, [Options].Pin), keeps the link alive, and runs interactive PTY sessions with the
// local terminal in raw mode. It never runs an ssh binary or limactl, and
// never reads sysvm's state or Lima's instance directory itself: pins come
// and go through the HostKeys it is given, the fingerprints a guest printed
// at boot through [Options].Fingerprints, and the config from the path it
// is handed.
package sshx

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// Config is what sysvm takes from Lima's ssh.config.
type Config struct {
	// Path is the file it was read from.
	Path string
	// Alias is the Host pattern, e.g. lima-myapp-dev.
	Alias        string
	User         string
	Hostname     string
	Port         int
	IdentityFile string
	ForwardAgent bool
	Ciphers      []string
}

// Addr returns host:port.
func (c *Config) Addr() string { return net.JoinHostPort(c.Hostname, strconv.Itoa(c.Port)) }

// ConfigError is an ssh.config that is missing or unusable.
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string { return fmt.Sprintf("Lima's ssh config %s: %v", e.Path, e.Err) }
func (e *ConfigError) Unwrap() error { return e.Err }

// ReadConfig parses the ssh.config Lima writes for an instance. The Host is
// taken from the file rather than recomputed from the instance name, since
// its form has changed between Lima versions.
func ReadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ConfigError{Path: path, Err: err}
	}
	defer f.Close()
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return nil, &ConfigError{Path: path, Err: err}
	}
	c := &Config{Path: path}
	for _, h := range cfg.Hosts {
		for _, p := range h.Patterns {
			if s := p.String(); s != "*" && !strings.ContainsAny(s, "*?!") {
				c.Alias = s
				break
			}
		}
		if c.Alias != "" {
			break
		}
	}
	if c.Alias == "" {
		return nil, &ConfigError{Path: path, Err: errors.New("no Host entry")}
	}
	get := func(key string) string {
		v, _ := cfg.Get(c.Alias, key)
		return unquote(v)
	}
	c.User = get("User")
	c.Hostname = get("Hostname")
	if c.Hostname == "" {
		c.Hostname = "127.0.0.1"
	}
	c.IdentityFile = get("IdentityFile")
	c.ForwardAgent = strings.EqualFold(get("ForwardAgent"), "yes")
	if ciphers := strings.TrimPrefix(get("Ciphers"), "^"); ciphers != "" && !strings.HasPrefix(ciphers, "+") && !strings.HasPrefix(ciphers, "-") {
		c.Ciphers = strings.Split(ciphers, ",")
	}
	port := get("Port")
	if c.Port, err = strconv.Atoi(port); err != nil || c.Port <= 0 || c.Port > 65535 {
		return nil, &ConfigError{Path: path, Err: fmt.Errorf("bad or missing Port %q", port)}
	}
	if c.User == "" {
		return nil, &ConfigError{Path: path, Err: errors.New("no User")}
	}
	if c.IdentityFile == "" {
		return nil, &ConfigError{Path: path, Err: errors.New("no IdentityFile")}
	}
	return c, nil
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}
