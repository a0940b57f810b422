package limaconfig

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/project"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testProject(t *testing.T, dir, sysvmYAML string) *project.Project {
	t.Helper()
	if sysvmYAML != "" {
		if err := os.WriteFile(filepath.Join(dir, project.FileName), []byte(sysvmYAML), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := project.Load(dir, project.Options{LimaHome: "/home/alice/.lima"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func noEnv(string) string { return "" }

func TestGenerateGolden(t *testing.T) {
	tests := []struct {
		name string
		host Host
		yaml string
		o    Overrides
	}{
		{name: "linux-default", host: Host{OS: "linux", Arch: "x86_64"}},
		{name: "darwin-default", host: Host{OS: "darwin", Arch: "aarch64"}},
		{name: "linux-settings", host: Host{OS: "linux", Arch: "x86_64"},
			yaml: "cpus: 2\nmemory: 8GiB\nports: [3000, \"8080:80\"]\nprovision: apt-get install -y git\nforwardAgent: true\n"},
		{name: "linux-lima-override", host: Host{OS: "linux", Arch: "x86_64"},
			yaml: "lima:\n  cpuType:\n    x86_64: max\n  firmware:\n    legacyBIOS: true\n  images:\n    - location: /var/cache/img.qcow2\n      arch: x86_64\n  ssh:\n    localPort: 2222\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "myapp")
			os.Mkdir(dir, 0o755)
			p := testProject(t, dir, tt.yaml)
			s, err := Resolve(p, tt.o, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Generate(p, s, tt.host)
			if err != nil {
				t.Fatal(err)
			}
			// The temp dir varies; the golden file holds a placeholder.
			got = []byte(strings.ReplaceAll(string(got), dir, "/PROJECT/myapp"))
			golden := filepath.Join("testdata", tt.name+".golden.yaml")
			if *update {
				os.WriteFile(golden, got, 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("generated config differs from %s (go test -update to accept):\n%s", golden, got)
			}
		})
	}
}

// parsed is the part of a Lima config the tests read back.
type parsed struct {
	VMType    string `yaml:"vmType"`
	Arch      string `yaml:"arch"`
	CPUs      int    `yaml:"cpus"`
	Memory    string `yaml:"memory"`
	Disk      string `yaml:"disk"`
	MountType string `yaml:"mountType"`
	Images    []struct {
		Location string `yaml:"location"`
		Arch     string `yaml:"arch"`
	} `yaml:"images"`
	Mounts []struct {
		Location   string `yaml:"location"`
		MountPoint string `yaml:"mountPoint"`
		Writable   bool   `yaml:"writable"`
	} `yaml:"mounts"`
	PortForwards []struct {
		GuestPort int  `yaml:"guestPort"`
		HostPort  int  `yaml:"hostPort"`
		Ignore    bool `yaml:"ignore"`
	} `yaml:"portForwards"`
	Env map[string]string `yaml:"env"`
	SSH struct {
		LoadDotSSHPubKeys bool `yaml:"loadDotSSHPubKeys"`
		ForwardAgent      bool `yaml:"forwardAgent"`
	} `yaml:"ssh"`
	Containerd struct{ System, User bool }     `yaml:"containerd"`
	Provision  []struct{ Mode, Script string } `yaml:"provision"`
}

// Parse generates and reads back a config.
func parse(t *testing.T, p *project.Project, s Settings, h Host) parsed {
	t.Helper()
	out, err := Generate(p, s, h)
	if err != nil {
		t.Fatal(err)
	}
	var c parsed
	if err := yaml.Unmarshal(out, &c); err != nil {
		t.Fatalf("generated config does not parse: %v\n%s", err, out)
	}
	return c
}

func TestGenerateHostAware(t *testing.T) {
	dir := t.TempDir()
	p := testProject(t, dir, "")
	for _, tt := range []struct {
		host            Host
		vmType, mntType string
	}{
		{Host{"linux", "x86_64"}, "qemu", "9p"},
		{Host{"linux", "aarch64"}, "qemu", "9p"},
		{Host{"darwin", "aarch64"}, "vz", "virtiofs"},
	} {
		c := parse(t, p, Settings{}, tt.host)
		if c.VMType != tt.vmType || c.MountType != tt.mntType || c.Arch != tt.host.Arch {
			t.Errorf("%v: vmType %q mountType %q arch %q", tt.host, c.VMType, c.MountType, c.Arch)
		}
		if len(c.Mounts) != 1 || c.Mounts[0].Location != dir || c.Mounts[0].MountPoint != dir || !c.Mounts[0].Writable {
			t.Errorf("mounts = %+v, want %s writable at the same path", c.Mounts, dir)
		}
		if c.SSH.LoadDotSSHPubKeys || c.SSH.ForwardAgent || c.Containerd.System || c.Containerd.User {
			t.Errorf("unsafe defaults: ssh %+v containerd %+v", c.SSH, c.Containerd)
		}
		want := map[string]string{"PROJECT_NAME": p.Slug, "ZELLIJ_SESSION": p.Slug, "SYSINIT_IN_VM": "1"}
		if !reflect.DeepEqual(c.Env, want) {
			t.Errorf("env = %v, want %v", c.Env, want)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	p := testProject(t, dir, "cpus: 2\nmemory: 2GiB\ndisk: 30GiB\nports: [3000]\nimage: img/local.qcow2\n")
	env := map[string]string{EnvCPUs: "6", EnvMemory: "12", EnvPorts: "4000, 5000:50"}
	getenv := func(k string) string { return env[k] }
	s, err := Resolve(p, Overrides{CPUs: 8}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUs != 8 {
		t.Errorf("cpus = %d, want the flag's 8", s.CPUs)
	}
	if s.Memory != "12GiB" {
		t.Errorf("memory = %q, want the env's 12GiB", s.Memory)
	}
	if s.Disk != "30GiB" {
		t.Errorf("disk = %q, want sysvm.yaml's 30GiB", s.Disk)
	}
	if want := []Port{{4000, 4000}, {5000, 50}}; !reflect.DeepEqual(s.Ports, want) {
		t.Errorf("ports = %v, want %v", s.Ports, want)
	}
	if s.Image != filepath.Join(dir, "img/local.qcow2") {
		t.Errorf("image = %q, want it relative to the project", s.Image)
	}
	c := parse(t, p, s, Host{"linux", "x86_64"})
	if len(c.Images) != 1 || c.Images[0].Location != s.Image {
		t.Errorf("images = %+v", c.Images)
	}
	if len(c.PortForwards) != 4 || c.PortForwards[1].HostPort != 5000 || c.PortForwards[1].GuestPort != 50 || !c.PortForwards[2].Ignore || !c.PortForwards[3].Ignore {
		t.Errorf("portForwards = %+v, want the two ports then two ignore rules", c.PortForwards)
	}
}

func TestResolveRejectsBadValues(t *testing.T) {
	p := testProject(t, t.TempDir(), "")
	for _, tt := range []struct {
		key, val string
	}{
		{EnvCPUs, "two"}, {EnvCPUs, "0"}, {EnvMemory, "lots"}, {EnvDisk, "-1GiB"},
		{EnvPorts, "22"}, {EnvPorts, "70000"}, {EnvPorts, "a:b"},
	} {
		_, err := Resolve(p, Overrides{}, func(k string) string {
			if k == tt.key {
				return tt.val
			}
			return ""
		})
		if err == nil {
			t.Errorf("%s=%q: want an error", tt.key, tt.val)
		}
	}
}

func TestLimaOverrideMerges(t *testing.T) {
	p := testProject(t, t.TempDir(), "cpus: 3\nlima:\n  cpus: 1\n  ssh:\n    localPort: 2222\n")
	s, err := Resolve(p, Overrides{}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(p, s, Host{"linux", "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	ssh := m["ssh"].(map[string]any)
	if m["cpus"] != 1 || ssh["localPort"] != 2222 || ssh["loadDotSSHPubKeys"] != false {
		t.Errorf("lima: block not merged key by key: cpus=%v ssh=%v", m["cpus"], ssh)
	}
}
