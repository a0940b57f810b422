package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// limaYAML is a subset of limayaml.LimaYAML@v1.2.2 with the same YAML keys,
// JSON keys and key order. Unknown keys are ignored (Lima only warns).
type limaYAML struct {
	MinimumLimaVersion *string           `yaml:"minimumLimaVersion,omitempty" json:"minimumLimaVersion,omitempty"`
	VMType             *string           `yaml:"vmType,omitempty" json:"vmType,omitempty"`
	VMOpts             vmOpts            `yaml:"vmOpts,omitempty" json:"vmOpts,omitempty"`
	OS                 *string           `yaml:"os,omitempty" json:"os,omitempty"`
	Arch               *string           `yaml:"arch,omitempty" json:"arch,omitempty"`
	Images             []image           `yaml:"images,omitempty" json:"images,omitempty"`
	CPUType            map[string]string `yaml:"cpuType,omitempty" json:"cpuType,omitempty"`
	CPUs               *int              `yaml:"cpus,omitempty" json:"cpus,omitempty"`
	Memory             *string           `yaml:"memory,omitempty" json:"memory,omitempty"`
	Disk               *string           `yaml:"disk,omitempty" json:"disk,omitempty"`
	AdditionalDisks    []any             `yaml:"additionalDisks,omitempty" json:"additionalDisks,omitempty"`
	Mounts             []mount           `yaml:"mounts,omitempty" json:"mounts,omitempty"`
	MountTypesUnsupp   []string          `yaml:"mountTypesUnsupported,omitempty" json:"mountTypesUnsupported,omitempty"`
	MountType          *string           `yaml:"mountType,omitempty" json:"mountType,omitempty"`
	MountInotify       *bool             `yaml:"mountInotify,omitempty" json:"mountInotify,omitempty"`
	SSH                sshYAML           `yaml:"ssh,omitempty" json:"ssh,omitempty"`
	Firmware           firmware          `yaml:"firmware,omitempty" json:"firmware,omitempty"`
	Audio              audio             `yaml:"audio,omitempty" json:"audio,omitempty"`
	Video              video             `yaml:"video,omitempty" json:"video,omitempty"`
	Provision          []map[string]any  `yaml:"provision,omitempty" json:"provision,omitempty"`
	UpgradePackages    *bool             `yaml:"upgradePackages,omitempty" json:"upgradePackages,omitempty"`
	Containerd         containerd        `yaml:"containerd,omitempty" json:"containerd,omitempty"`
	GuestInstallPrefix *string           `yaml:"guestInstallPrefix,omitempty" json:"guestInstallPrefix,omitempty"`
	Probes             []map[string]any  `yaml:"probes,omitempty" json:"probes,omitempty"`
	PortForwards       []map[string]any  `yaml:"portForwards,omitempty" json:"portForwards,omitempty"`
	CopyToHost         []map[string]any  `yaml:"copyToHost,omitempty" json:"copyToHost,omitempty"`
	Message            string            `yaml:"message,omitempty" json:"message,omitempty"`
	Networks           []map[string]any  `yaml:"networks,omitempty" json:"networks,omitempty"`
	Env                map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Param              map[string]string `yaml:"param,omitempty" json:"param,omitempty"`
	DNS                []string          `yaml:"dns,omitempty" json:"dns,omitempty"`
	HostResolver       hostResolver      `yaml:"hostResolver,omitempty" json:"hostResolver,omitempty"`
	PropagateProxyEnv  *bool             `yaml:"propagateProxyEnv,omitempty" json:"propagateProxyEnv,omitempty"`
	CACertificates     caCerts           `yaml:"caCerts,omitempty" json:"caCerts,omitempty"`
	Rosetta            rosetta           `yaml:"rosetta,omitempty" json:"rosetta,omitempty"`
	Plain              *bool             `yaml:"plain,omitempty" json:"plain,omitempty"`
	TimeZone           *string           `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	NestedVirt         *bool             `yaml:"nestedVirtualization,omitempty" json:"nestedVirtualization,omitempty"`
	User               userYAML          `yaml:"user,omitempty" json:"user,omitempty"`
}

// file mirrors limayaml.File.
type file struct {
	Location string `yaml:"location" json:"location"`
	Arch     string `yaml:"arch,omitempty" json:"arch,omitempty"`
	Digest   string `yaml:"digest,omitempty" json:"digest,omitempty"`
}

// image mirrors limayaml.Image.
type image struct {
	file   `yaml:",inline"`
	Kernel *struct {
		file    `yaml:",inline"`
		Cmdline string `yaml:"cmdline,omitempty" json:"cmdline,omitempty"`
	} `yaml:"kernel,omitempty" json:"kernel,omitempty"`
	Initrd *file `yaml:"initrd,omitempty" json:"initrd,omitempty"`
}

type vmOpts struct {
	QEMU struct {
		MinimumVersion *string `yaml:"minimumVersion,omitempty" json:"minimumVersion,omitempty"`
		// CPUType is 2.0+ (Lima v2.0.0 pkg/limatype/lima_yaml.go QEMUOpts).
		CPUType map[string]string `yaml:"cpuType,omitempty" json:"cpuType,omitempty"`
	} `yaml:"qemu,omitempty" json:"qemu"`
}

type mount struct {
	Location   string  `yaml:"location" json:"location"`
	MountPoint *string `yaml:"mountPoint,omitempty" json:"mountPoint,omitempty"`
	Writable   *bool   `yaml:"writable,omitempty" json:"writable,omitempty"`
	SSHFS      struct {
		Cache          *bool   `yaml:"cache,omitempty" json:"cache,omitempty"`
		FollowSymlinks *bool   `yaml:"followSymlinks,omitempty" json:"followSymlinks,omitempty"`
		SFTPDriver     *string `yaml:"sftpDriver,omitempty" json:"sftpDriver,omitempty"`
	} `yaml:"sshfs,omitempty" json:"sshfs"`
	NineP struct {
		SecurityModel   *string `yaml:"securityModel,omitempty" json:"securityModel,omitempty"`
		ProtocolVersion *string `yaml:"protocolVersion,omitempty" json:"protocolVersion,omitempty"`
		Msize           *string `yaml:"msize,omitempty" json:"msize,omitempty"`
		Cache           *string `yaml:"cache,omitempty" json:"cache,omitempty"`
	} `yaml:"9p,omitempty" json:"9p"`
	Virtiofs struct {
		QueueSize *int `yaml:"queueSize,omitempty" json:"queueSize,omitempty"`
	} `yaml:"virtiofs,omitempty" json:"virtiofs"`
}

type sshYAML struct {
	LocalPort         *int  `yaml:"localPort,omitempty" json:"localPort"`
	LoadDotSSHPubKeys *bool `yaml:"loadDotSSHPubKeys,omitempty" json:"loadDotSSHPubKeys"`
	ForwardAgent      *bool `yaml:"forwardAgent,omitempty" json:"forwardAgent"`
	ForwardX11        *bool `yaml:"forwardX11,omitempty" json:"forwardX11"`
	ForwardX11Trusted *bool `yaml:"forwardX11Trusted,omitempty" json:"forwardX11Trusted"`
}

type firmware struct {
	LegacyBIOS *bool `yaml:"legacyBIOS,omitempty" json:"legacyBIOS"`
	Images     []any `yaml:"images,omitempty" json:"images,omitempty"`
}

type audio struct {
	Device *string `yaml:"device,omitempty" json:"device"`
}

type video struct {
	Display *string `yaml:"display,omitempty" json:"display"`
	VNC     struct {
		Display *string `yaml:"display,omitempty" json:"display"`
	} `yaml:"vnc,omitempty" json:"vnc"`
}

type containerd struct {
	System   *bool `yaml:"system,omitempty" json:"system"`
	User     *bool `yaml:"user,omitempty" json:"user"`
	Archives []any `yaml:"archives,omitempty" json:"archives,omitempty"`
}

type hostResolver struct {
	Enabled *bool             `yaml:"enabled,omitempty" json:"enabled"`
	IPv6    *bool             `yaml:"ipv6,omitempty" json:"ipv6"`
	Hosts   map[string]string `yaml:"hosts,omitempty" json:"hosts,omitempty"`
}

type caCerts struct {
	RemoveDefaults *bool    `yaml:"removeDefaults,omitempty" json:"removeDefaults"`
	Files          []string `yaml:"files,omitempty" json:"files,omitempty"`
	Certs          []string `yaml:"certs,omitempty" json:"certs,omitempty"`
}

type rosetta struct {
	Enabled *bool `yaml:"enabled,omitempty" json:"enabled"`
	BinFmt  *bool `yaml:"binfmt,omitempty" json:"binfmt"`
}

type userYAML struct {
	Name    *string `yaml:"name,omitempty" json:"name,omitempty"`
	Comment *string `yaml:"comment,omitempty" json:"comment,omitempty"`
	Home    *string `yaml:"home,omitempty" json:"home,omitempty"`
	Shell   *string `yaml:"shell,omitempty" json:"shell,omitempty"`
	UID     *uint32 `yaml:"uid,omitempty" json:"uid,omitempty"`
}

// parseLimaYAML unmarshals b; errors are worded like limayaml.Unmarshal.
func parseLimaYAML(b []byte, path string) (*limaYAML, error) {
	var y limaYAML
	if err := yaml.Unmarshal(b, &y); err != nil {
		return nil, fmt.Errorf("failed to unmarshal YAML (main file %q): %w", path, err)
	}
	return &y, nil
}

// validateLimaYAML implements the subset of limayaml.Validate the fake
// cares about.
func validateLimaYAML(y *limaYAML) error {
	if len(y.Images) == 0 {
		return errors.New("field `images` must be set")
	}
	for i, img := range y.Images {
		if img.Location == "" {
			return fmt.Errorf("field `images[%d].location` must be set", i)
		}
	}
	if y.VMType != nil {
		switch *y.VMType {
		case "qemu", "vz", "wsl2":
		default:
			return fmt.Errorf("field `vmType` must be %q, %q, %q; got %q", "qemu", "vz", "wsl2", *y.VMType)
		}
	}
	if y.CPUs != nil && *y.CPUs == 0 {
		return errors.New("field `cpus` must be set")
	}
	if y.Memory != nil {
		if _, err := ramInBytes(*y.Memory); err != nil {
			return fmt.Errorf("field `memory` has an invalid value: %w", err)
		}
	}
	if y.Disk != nil {
		if _, err := ramInBytes(*y.Disk); err != nil {
			return fmt.Errorf("field `disk` has an invalid value: %w", err)
		}
	}
	if y.SSH.LocalPort != nil && *y.SSH.LocalPort == 22 {
		return errors.New("field `ssh.localPort` must not be 22")
	}
	for i, m := range y.Mounts {
		if !filepath.IsAbs(m.Location) && !strings.HasPrefix(m.Location, "~") {
			return fmt.Errorf("field `mounts[%d].location` must be an absolute path, got %q", i, m.Location)
		}
	}
	return nil
}

// loadYAMLByFilePath reads, parses, fills defaults and validates an
// instance's lima.yaml (store.LoadYAMLByFilePath).
func loadYAMLByFilePath(path, instName string) (*limaYAML, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	y, err := parseLimaYAML(b, path)
	if err != nil {
		return nil, err
	}
	if err := validateLimaYAML(y); err != nil {
		return nil, err
	}
	if err := fillDefaults(y, filepath.Dir(path)); err != nil {
		return nil, err
	}
	return y, nil
}

func ptr[T any](v T) *T { return &v }

func setDefault[T any](p **T, v T) {
	if *p == nil {
		*p = ptr(v)
	}
}

// fillDefaults applies the builtin defaults of Lima v1.2.2 for a qemu guest
// on a Linux host (pkg/limayaml/defaults.go), restricted to the subset the
// fake models. The guest user is forced to the current OS user because that
// is who the fake sshd lets in.
func fillDefaults(y *limaYAML, instDir string) error {
	setDefault(&y.VMType, "qemu")
	setDefault(&y.OS, "Linux")
	setDefault(&y.Arch, hostArch())
	fillCPUType(y)
	setDefault(&y.CPUs, min(4, runtime.NumCPU()))
	setDefault(&y.Memory, defaultMemory())
	setDefault(&y.Disk, "100GiB")
	setDefault(&y.MountType, "9p")
	setDefault(&y.MountInotify, false)
	home, _ := os.UserHomeDir()
	for i := range y.Mounts {
		m := &y.Mounts[i]
		if strings.HasPrefix(m.Location, "~") && home != "" {
			m.Location = filepath.Join(home, strings.TrimPrefix(m.Location, "~"))
		}
		setDefault(&m.MountPoint, m.Location)
		setDefault(&m.Writable, false)
		setDefault(&m.SSHFS.Cache, true)
		setDefault(&m.SSHFS.FollowSymlinks, false)
		setDefault(&m.SSHFS.SFTPDriver, "")
		setDefault(&m.NineP.SecurityModel, "none")
		setDefault(&m.NineP.ProtocolVersion, "9p2000.L")
		setDefault(&m.NineP.Msize, "128KiB")
		if *m.Writable {
			setDefault(&m.NineP.Cache, "mmap")
		} else {
			setDefault(&m.NineP.Cache, "fscache")
		}
	}
	setDefault(&y.SSH.LocalPort, 0)
	setDefault(&y.SSH.LoadDotSSHPubKeys, false)
	setDefault(&y.SSH.ForwardAgent, false)
	setDefault(&y.SSH.ForwardX11, false)
	setDefault(&y.SSH.ForwardX11Trusted, false)
	setDefault(&y.Firmware.LegacyBIOS, false)
	setDefault(&y.Audio.Device, "")
	setDefault(&y.Video.Display, "none")
	setDefault(&y.Video.VNC.Display, "127.0.0.1:0,to=9")
	setDefault(&y.UpgradePackages, false)
	setDefault(&y.Containerd.System, false)
	setDefault(&y.Containerd.User, hostArch() == "x86_64" || hostArch() == "aarch64")
	setDefault(&y.GuestInstallPrefix, "/usr/local")
	setDefault(&y.HostResolver.Enabled, true)
	setDefault(&y.HostResolver.IPv6, false)
	setDefault(&y.PropagateProxyEnv, true)
	setDefault(&y.CACertificates.RemoveDefaults, false)
	setDefault(&y.Rosetta.Enabled, false)
	setDefault(&y.Rosetta.BinFmt, false)
	setDefault(&y.Plain, false)
	setDefault(&y.TimeZone, hostTimeZone())
	setDefault(&y.NestedVirt, false)

	u, err := currentUser()
	if err != nil {
		return err
	}
	y.User.Name = ptr(u.Username)
	setDefault(&y.User.Comment, "")
	setDefault(&y.User.Home, filepath.Join(instDir, fnFakeGuestHome))
	setDefault(&y.User.Shell, "/bin/bash")
	if uid, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
		y.User.UID = ptr(uint32(uid))
	}
	return nil
}

func defaultMemory() string {
	const fourGiB = 4 << 30
	total := totalMemory()
	if total == 0 || total/2 >= fourGiB {
		return "4GiB"
	}
	return bytesSize(float64(total / 2))
}

// totalMemory reads MemTotal from /proc/meminfo (0 if unknown).
func totalMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// hostTimeZone derives the IANA zone name from /etc/localtime, as Lima does.
func hostTimeZone() string {
	if tz := os.Getenv("TZ"); tz != "" && !strings.HasPrefix(tz, ":") {
		return tz
	}
	target, err := filepath.EvalSymlinks("/etc/localtime")
	if err != nil {
		return "Etc/UTC"
	}
	if _, zone, ok := strings.Cut(target, "zoneinfo/"); ok {
		return zone
	}
	return "Etc/UTC"
}

var ramRe = regexp.MustCompile(`^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`)

// ramInBytes mirrors go-units.RAMInBytes (binary multiples for every suffix).
func ramInBytes(s string) (int64, error) {
	m := ramRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return -1, fmt.Errorf("invalid size: '%s'", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1, err
	}
	mult := map[string]float64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}[strings.ToLower(m[2])]
	return int64(f * mult), nil
}

// bytesSize mirrors go-units.BytesSize ("%.4g" with binary suffixes).
func bytesSize(size float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}
	i := 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", size, units[i])
}

// marshalYAML renders y as YAML (validate --fill).
func marshalYAML(y *limaYAML) (string, error) {
	b, err := yaml.Marshal(y)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// fillCPUType fills the CPU type defaults. 1.x keeps a top-level cpuType map
// with every architecture (Lima v1.2.2 pkg/limayaml/defaults.go). 2.0
// deprecated the top-level key: the qemu driver moves it to
// vmOpts.qemu.cpuType, which is filled only when something overrides the
// default (Lima v2.0.0 pkg/driver/qemu/qemu.go resolveCPUType).
func fillCPUType(y *limaYAML) {
	if lima.atLeast(2, 0) {
		override := y.VMOpts.QEMU.CPUType
		if len(y.CPUType) > 0 && override == nil {
			override = map[string]string{}
		}
		for k, v := range y.CPUType {
			if _, ok := override[k]; !ok && v != "" {
				override[k] = v
			}
		}
		y.CPUType = nil
		if len(override) == 0 {
			return
		}
		y.VMOpts.QEMU.CPUType = defaultCPUType()
		for k, v := range override {
			y.VMOpts.QEMU.CPUType[k] = v
		}
		return
	}
	y.VMOpts.QEMU.CPUType = nil // unknown to 1.x: Lima ignores it
	cpuType := defaultCPUType()
	for k, v := range y.CPUType {
		if v != "" {
			cpuType[k] = v
		}
	}
	y.CPUType = cpuType
}

func defaultCPUType() map[string]string {
	cpuType := map[string]string{}
	for _, a := range []string{"aarch64", "armv7l", "ppc64le", "riscv64", "s390x", "x86_64"} {
		cpuType[a] = "max"
	}
	cpuType[hostArch()] = "host"
	return cpuType
}

// warnDeprecatedCPUType prints the warning the 2.x qemu driver gives when
// it loads a config with a top-level cpuType (Lima v2.0.0
// pkg/driver/qemu/qemu_driver.go FillConfig; v2.2.0 fillConfig).
func warnDeprecatedCPUType(raw []byte) {
	if !lima.atLeast(2, 0) {
		return
	}
	var y limaYAML
	if yaml.Unmarshal(raw, &y) != nil || len(y.CPUType) == 0 || y.VMType != nil && *y.VMType != "qemu" {
		return
	}
	warnf("The top-level `cpuType` field is deprecated and will be removed in a future release. Please migrate to `vmOpts.qemu.cpuType`.")
}
