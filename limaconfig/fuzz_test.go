package limaconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sysvm/sysvm/project"
)

// FuzzGenerate: whatever the path, ports and env values, the generated
// config parses back with yaml.v3 to the intended values.
func FuzzGenerate(f *testing.F) {
	f.Add("myapp", "3000,8080:80", "8", "60GiB", "#!/bin/sh\necho hi", "https://example.com/img.qcow2")
	f.Add("My App: ü #1", "1", "0.5", "1TiB", "'quotes' \"and\" {yaml: [flow]}", "./local image.qcow2")
	f.Add("- dash", "65535", "512MiB", "2G", "---\n...\n&a *a !!tag", "")
	f.Fuzz(func(t *testing.T, name, ports, memory, disk, provision, image string) {
		if !utf8.ValidString(name+ports+memory+disk+provision+image) || strings.ContainsAny(name, "/\x00") || name == "" || name == "." || name == ".." {
			t.Skip()
		}
		if strings.ContainsRune(provision, 0) || strings.ContainsRune(image, 0) {
			t.Skip()
		}
		dir := filepath.Join(t.TempDir(), name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Skip()
		}
		p, err := project.Load(dir, project.Options{LimaHome: "/h/.lima"})
		if err != nil {
			t.Fatal(err)
		}
		p.File.Provision = provision
		env := map[string]string{EnvPorts: ports, EnvMemory: memory, EnvDisk: disk, EnvImage: image}
		s, err := Resolve(p, Overrides{}, func(k string) string { return env[k] })
		if err != nil {
			return // rejected input is fine; it must just never produce a bad config
		}
		c := parse(t, p, s, Host{"linux", "x86_64"})
		if len(c.Mounts) != 1 || c.Mounts[0].Location != dir || c.Mounts[0].MountPoint != dir {
			t.Fatalf("mount = %+v, want %q", c.Mounts, dir)
		}
		if s.Memory != "" && c.Memory != s.Memory || s.Disk != "" && c.Disk != s.Disk {
			t.Fatalf("memory/disk = %q/%q, want %q/%q", c.Memory, c.Disk, s.Memory, s.Disk)
		}
		if s.Image != "" && (len(c.Images) != 1 || c.Images[0].Location != s.Image) {
			t.Fatalf("images = %+v, want %q", c.Images, s.Image)
		}
		for i, pt := range s.Ports {
			if c.PortForwards[i].HostPort != pt.Host || c.PortForwards[i].GuestPort != pt.Guest {
				t.Fatalf("port %d = %+v, want %v", i, c.PortForwards[i], pt)
			}
		}
		if n := len(c.PortForwards); n != len(s.Ports)+2 || !c.PortForwards[n-1].Ignore || !c.PortForwards[n-2].Ignore {
			t.Fatalf("portForwards = %+v", c.PortForwards)
		}
		if provision != "" {
			want := provision
			if !strings.HasPrefix(want, "#!") {
				want = "#!/bin/sh\n" + want
			}
			if len(c.Provision) != 1 || c.Provision[0].Script != want {
				t.Fatalf("provision = %+v, want %q", c.Provision, want)
			}
		}
		if c.Env["PROJECT_NAME"] != p.Slug || c.Env["SYSINIT_IN_VM"] != "1" {
			t.Fatalf("env = %v", c.Env)
		}
	})
}
