package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/sysvm/sysvm/test/procs"
)

// Instance status values, as in Lima's store package.
const (
	statusUnknown = ""
	statusBroken  = "Broken"
	statusStopped = "Stopped"
	statusRunning = "Running"
)

// File names inside an instance directory (pkg/store/filenames@v1.2.2) plus
// the fake's own files.
const (
	fnLimaYAML      = "lima.yaml"
	fnLimaVersion   = "lima-version"
	fnCloudConfig   = "cloud-config.yaml"
	fnHAPID         = "ha.pid"
	fnHASock        = "ha.sock"
	fnHAStdout      = "ha.stdout.log"
	fnHAStderr      = "ha.stderr.log"
	fnDriverPID     = "qemu.pid"
	fnSSHConfig     = "ssh.config"
	fnSSHSock       = "ssh.sock"
	fnProtected     = "protected"
	fnFakeSSHDConf  = "fake-sshd_config"
	fnFakeHostKey   = "fake-hostkey"
	fnFakeGuestDir  = "guest"
	fnFakeGuestHome = "home"
	longestSock     = "ssh.sock.1234567890123456"
	unixPathMax     = 108
)

// limaHome returns $LIMA_HOME (default ~/.lima) with symlinks resolved, as
// dirnames.LimaDir does.
func limaHome() (string, error) {
	dir := os.Getenv("LIMA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".lima")
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return filepath.Abs(dir)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("cannot evaluate symlinks in %q: %w", dir, err)
	}
	return filepath.Abs(real)
}

func limaConfigDir() (string, error) {
	home, err := limaHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "_config"), nil
}

var identifierRe = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$`)

// validateIdentifier mirrors pkg/identifiers.Validate@v1.2.2.
func validateIdentifier(s string) error {
	if s == "" {
		return errors.New("identifier must not be empty")
	}
	if len(s) > 76 {
		return fmt.Errorf("identifier %s greater than maximum length (%d characters)", q(s), 76)
	}
	if !identifierRe.MatchString(s) {
		return fmt.Errorf("identifier %s must match %v", q(s), identifierRe)
	}
	return nil
}

// validateInstName mirrors store.ValidateInstName@v1.2.2.
func validateInstName(name string) error {
	if err := validateIdentifier(name); err != nil {
		return fmt.Errorf("instance name %s is not a valid identifier: %w", q(name), err)
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".yml") || strings.HasSuffix(lower, ".yaml") {
		return fmt.Errorf("instance name %s must not end with .yml or .yaml suffix", q(name))
	}
	return nil
}

// instanceDir validates name and returns $LIMA_HOME/name.
func instanceDir(name string) (string, error) {
	if err := validateInstName(name); err != nil {
		return "", err
	}
	home, err := limaHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, name), nil
}

// instanceNames lists directories under LIMA_HOME not starting with "." or
// "_", in ReadDir (alphabetical) order.
func instanceNames() ([]string, error) {
	home, err := limaHome()
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(home)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || !e.IsDir() {
			continue
		}
		names = append(names, n)
	}
	return names, nil
}

// hostnameFor returns "lima-" + name with "." and "_" replaced by "-".
func hostnameFor(name string) string {
	return "lima-" + strings.NewReplacer(".", "-", "_", "-").Replace(name)
}

// hostArch maps GOARCH to Lima's arch names.
func hostArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "arm":
		return "armv7l"
	default:
		return runtime.GOARCH
	}
}

// currentUser returns the login user of the fake guest (the current OS user).
func currentUser() (*user.User, error) {
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("cannot determine the current user: %w", err)
	}
	return u, nil
}

// instErrors encodes like Lima's []error inside {{json .}}: each item is {}.
type instErrors []error

// MarshalJSON implements json.Marshaler.
func (e instErrors) MarshalJSON() ([]byte, error) {
	items := make([]struct{}, len(e))
	return json.Marshal(items)
}

// instance mirrors store.Instance@v1.2.2 (JSON keys and order).
type instance struct {
	Name            string            `json:"name"`
	Hostname        string            `json:"hostname"`
	Status          string            `json:"status"`
	Dir             string            `json:"dir"`
	VMType          string            `json:"vmType"`
	Arch            string            `json:"arch"`
	CPUType         *string           `json:"cpuType,omitempty"` // ≤1.x only (Lima v2.0.0 pkg/limatype/lima_instance.go dropped it)
	CPUs            int               `json:"cpus,omitempty"`
	Memory          int64             `json:"memory,omitempty"`
	Disk            int64             `json:"disk,omitempty"`
	Message         string            `json:"message,omitempty"`
	AdditionalDisks []any             `json:"additionalDisks,omitempty"`
	Networks        []map[string]any  `json:"network,omitempty"`
	SSHLocalPort    int               `json:"sshLocalPort,omitempty"`
	SSHConfigFile   string            `json:"sshConfigFile,omitempty"`
	HostAgentPID    int               `json:"hostAgentPID,omitempty"`
	DriverPID       int               `json:"driverPID,omitempty"`
	Errors          instErrors        `json:"errors,omitempty"`
	Config          *limaYAML         `json:"config,omitempty"`
	SSHAddress      string            `json:"sshAddress,omitempty"`
	Protected       bool              `json:"protected"`
	LimaVersion     string            `json:"limaVersion"`
	Param           map[string]string `json:"param,omitempty"`
}

// formatData mirrors store.FormatData: the instance plus capitalised globals.
type formatData struct {
	instance
	HostOS       string
	HostArch     string
	LimaHome     string
	IdentityFile string
}

// inspect mirrors store.Inspect@v1.2.2. It returns an error wrapping
// os.ErrNotExist when the instance has no lima.yaml.
func inspect(name string) (*instance, error) {
	inst := &instance{Name: name, Hostname: hostnameFor(name), Status: statusUnknown}
	dir, err := instanceDir(name)
	if err != nil {
		return nil, err
	}
	inst.Dir = dir
	y, err := loadYAMLByFilePath(filepath.Join(dir, fnLimaYAML), name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		inst.Errors = append(inst.Errors, err)
		return inst, nil
	}
	inst.Config = y
	inst.Arch = *y.Arch
	inst.VMType = *y.VMType
	if !lima.atLeast(2, 0) {
		inst.CPUType = ptr(y.CPUType[*y.Arch])
	}
	inst.SSHAddress = "127.0.0.1"
	inst.SSHLocalPort = *y.SSH.LocalPort
	inst.SSHConfigFile = filepath.Join(dir, fnSSHConfig)
	inst.HostAgentPID, err = readPIDFile(filepath.Join(dir, fnHAPID))
	if err != nil {
		inst.Status = statusBroken
		inst.Errors = append(inst.Errors, err)
	}
	if inst.HostAgentPID != 0 {
		port, err := hostAgentInfo(filepath.Join(dir, fnHASock))
		if err != nil {
			inst.Status = statusBroken
			inst.Errors = append(inst.Errors, err)
		} else {
			inst.SSHLocalPort = port
		}
	}
	if inst.SSHLocalPort == 0 && lima.atLeast(2, 1) {
		// From 2.1 a stopped instance reports the port of its last start,
		// read from the stale ssh.config (Lima v2.1.0 pkg/store/instance.go
		// sshPortFromConfig).
		if port, err := sshPortFromConfig(inst.SSHConfigFile); err == nil {
			inst.SSHLocalPort = port
		} else if !errors.Is(err, os.ErrNotExist) {
			inst.Errors = append(inst.Errors, fmt.Errorf("failed to extract SSH local port from %s: %w", q(inst.SSHConfigFile), err))
		}
	}
	inst.CPUs = *y.CPUs
	if n, err := ramInBytes(*y.Memory); err == nil {
		inst.Memory = n
	}
	if n, err := ramInBytes(*y.Disk); err == nil {
		inst.Disk = n
	}
	inst.AdditionalDisks = y.AdditionalDisks
	inst.Networks = y.Networks
	if _, err := os.Lstat(filepath.Join(dir, fnProtected)); !errors.Is(err, os.ErrNotExist) {
		inst.Protected = true
	}

	inst.DriverPID, err = readPIDFile(filepath.Join(dir, fnDriverPID))
	if err != nil {
		inst.Status = statusBroken
		inst.Errors = append(inst.Errors, err)
	}
	if inst.Status == statusUnknown {
		switch {
		case inst.HostAgentPID > 0 && inst.DriverPID > 0:
			inst.Status = statusRunning
		case inst.HostAgentPID == 0 && inst.DriverPID == 0:
			inst.Status = statusStopped
		case inst.HostAgentPID > 0 && inst.DriverPID == 0:
			inst.Errors = append(inst.Errors, errors.New("host agent is running but driver is not"))
			inst.Status = statusBroken
		default:
			inst.Errors = append(inst.Errors, fmt.Errorf("%s driver is running but host agent is not", inst.VMType))
			inst.Status = statusBroken
		}
	}
	inst.Message = y.Message
	if b, err := os.ReadFile(filepath.Join(dir, fnLimaVersion)); err == nil {
		inst.LimaVersion = strings.TrimSpace(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		inst.Errors = append(inst.Errors, err)
	}
	inst.Param = y.Param
	return inst, nil
}

// sshPortFromConfig returns the value of the first "Port" line of an
// ssh.config (Lima v2.1.0 pkg/store/instance.go).
func sshPortFromConfig(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if port, ok := strings.CutPrefix(strings.TrimSpace(line), "Port "); ok {
			return strconv.Atoi(port)
		}
	}
	return 0, fmt.Errorf("port not found in %s", q(path))
}

// hostAgentInfo performs GET /v1/info over the hostagent socket, with the
// 3 s timeout Lima uses, and returns sshLocalPort.
func hostAgentInfo(sock string) (int, error) {
	client := &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
		},
		Timeout: 3 * time.Second,
	}
	resp, err := client.Get("http://lima-hostagent/v1/info")
	if err != nil {
		return 0, fmt.Errorf("failed to get Info from %s: %w", q(sock), err)
	}
	defer resp.Body.Close()
	var info struct {
		SSHLocalPort int `json:"sshLocalPort"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return 0, fmt.Errorf("failed to get Info from %s: %w", q(sock), err)
	}
	return info.SSHLocalPort, nil
}

// readPIDFile mirrors store.ReadPIDFile: 0 if missing; a stale file of a
// dead process is removed. Zombies count as dead (the fake's processes are
// reparented to whatever init the test machine has).
func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, err
	}
	if !procs.Alive(pid) {
		_ = os.Remove(path)
		return 0, nil
	}
	return pid, nil
}

func writePIDFile(path string, pid int) error {
	return os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

// addGlobalFields mirrors store.AddGlobalFields.
func addGlobalFields(inst *instance) (formatData, error) {
	home, err := limaHome()
	if err != nil {
		return formatData{}, err
	}
	return formatData{
		instance:     *inst,
		HostOS:       runtime.GOOS,
		HostArch:     hostArch(),
		LimaHome:     home,
		IdentityFile: filepath.Join(home, "_config", "user"),
	}, nil
}
