package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/test/lab"
)

func TestParsePersonality(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "", want: "1.2.2"}, // the default the real-VM contract test checks
		{in: "1.2.2", want: "1.2.2"},
		{in: "2", want: "2.2.0"},
		{in: "2.0.0", want: "2.0.0"},
		{in: "v2.1.4", want: "2.1.4"}, // a patch release behaves as its minor
		{in: "2.2.0", want: "2.2.0"},
		{in: "1.1.0", wantErr: true}, // not modelled: refuse rather than pretend
		{in: "2.3.0", wantErr: true},
		{in: "2.2", wantErr: true},
		{in: "latest", wantErr: true},
	} {
		p, err := parsePersonality(tc.in)
		if (err != nil) != tc.wantErr || err == nil && p.String() != tc.want {
			t.Errorf("parsePersonality(%q) = %v, %v; want %q (error %v)", tc.in, p, err, tc.want, tc.wantErr)
		}
	}
}

func TestDropEmptyObjects(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1,"errors":[{},{}],"b":{"c":{}},"d":"x"}`: `{"a":1,"errors":[],"d":"x"}`,
		`{"z":{"y":{"x":{}}},"n":null,"f":false}`:       `{"n":null,"f":false}`,
		`{"s":"\u003cok\u003e","l":[1,{"k":{}}]}`:       `{"s":"\u003cok\u003e","l":[1]}`,
	} {
		got, err := dropEmptyObjects([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("dropEmptyObjects(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

// versions are the personalities every table below runs against.
var versions = []struct {
	v          string
	backquotes bool // 2.2 quotes names with backquotes
	two        bool // 2.0+
}{
	{v: "1.2.2"}, {v: "2.0.0", two: true}, {v: "2.1.0", two: true}, {v: "2.2.0", two: true, backquotes: true},
}

func quoted(backquotes bool, s string) string {
	if backquotes {
		return "`" + s + "`"
	}
	return `"` + s + `"`
}

// TestPersonalityStopped covers what differs without a running VM: version,
// list fields, quoting, unmatched names, template:default, cpuType, disk.
func TestPersonalityStopped(t *testing.T) {
	for _, tc := range versions {
		t.Run(tc.v, func(t *testing.T) {
			l := lab.New(t, lab.LimaVersion(tc.v))
			if res := l.MustLimactl("--version"); res.Stdout != "limactl version "+tc.v+"\n" {
				t.Errorf("--version: %q", res.Stdout)
			}
			res := l.MustLimactl("create", "--name=a", l.WriteLimaYAML("a", "cpuType:\n  x86_64: max\n"))
			deprecated := strings.Contains(res.Stderr, "The top-level `cpuType` field is deprecated")
			if deprecated != tc.two {
				t.Errorf("cpuType deprecation warning = %v, want %v:\n%s", deprecated, tc.two, res.Stderr)
			}
			inst := one(t, l, "a")
			cfg := inst["config"].(map[string]any)
			_, topCPUType := inst["cpuType"]
			_, cfgCPUType := cfg["cpuType"]
			qemuOpts, _ := cfg["vmOpts"].(map[string]any)["qemu"].(map[string]any)
			if topCPUType == tc.two || cfgCPUType == tc.two || tc.two && qemuOpts["cpuType"].(map[string]any)["x86_64"] != "max" {
				t.Errorf("cpuType keys: instance %v, config %v, vmOpts %v (2.x: only vmOpts.qemu.cpuType)", topCPUType, cfgCPUType, cfg["vmOpts"])
			}
			if inst["limaVersion"] != "v"+tc.v {
				t.Errorf("limaVersion = %v", inst["limaVersion"])
			}
			fields := l.MustLimactl("list", "--list-fields").Stdout
			if strings.Contains(fields, "CPUType\n") == tc.two || strings.Contains(fields, "AutoStartedIdentifier\n") != tc.two {
				t.Errorf("--list-fields:\n%s", fields)
			}
			wantDisk := map[string]string{"1.2.2": "", "2.0.0": "diffdisk", "2.1.0": "disk", "2.2.0": "disk"}[tc.v]
			for _, d := range []string{"diffdisk", "disk"} {
				_, err := os.Stat(filepath.Join(l.InstanceDir("a"), d))
				if (err == nil) != (d == wantDisk) {
					t.Errorf("disk file %s exists: %v, want only %q", d, err == nil, wantDisk)
				}
			}

			res = l.Limactl("list", "--json", "a", "nope")
			if res.ExitCode != 1 || !strings.Contains(res.Stdout, `"name":"a"`) ||
				strings.Contains(res.Stderr, `level=fatal msg="unmatched instances"`) != tc.two {
				t.Errorf("list with an unmatched name: %s", res)
			}
			res = l.MustLimactl("delete", "nope")
			if !strings.Contains(res.Stderr, "Ignoring non-existent instance "+strings.ReplaceAll(quoted(tc.backquotes, "nope"), `"`, `\"`)) {
				t.Errorf("delete of a missing instance: %s", res)
			}
			res = l.Limactl("create", "--name=a", l.WriteLimaYAML("a", ""))
			if res.ExitCode != 1 || fatalMsg(t, res.Stderr) != "instance "+quoted(tc.backquotes, "a")+" already exists" {
				t.Errorf("create of an existing instance: %s", res)
			}
			res = l.Limactl("start", "--progress", "a")
			if unknown := strings.Contains(res.Stderr, "unknown flag: --progress"); unknown == tc.two || !tc.two && res.ExitCode != 1 {
				t.Errorf("start --progress on a stopped instance of %s: %s", tc.v, res)
			}
			if tc.two {
				l.MustLimactl("stop", "-f", "a")
			}

			// `create NAME` / `start NAME` of a name that does not exist.
			res = l.Limactl("create", "ghost")
			if !tc.two {
				if res.ExitCode != 1 || fatalMsg(t, res.Stderr) != `instance "ghost" does not exist` {
					t.Errorf("1.2.2 deviation (fails instead of creating from the default template): %s", res)
				}
				return
			}
			if res.ExitCode != 0 || !strings.Contains(res.Stderr, "Creating an instance "+strings.ReplaceAll(quoted(tc.backquotes, "ghost"), `"`, `\"`)+" from template:default (Not from template:ghost)") {
				t.Errorf("create of a missing name: %s", res)
			}
			if m := one(t, l, "ghost")["config"].(map[string]any)["mounts"].([]any); len(m) != 1 {
				t.Errorf("ghost was not created from the default template: mounts %v", m)
			}
		})
	}
}

// TestPersonalityBrokenDirectory: an instance directory without lima.yaml
// beside a healthy instance.
func TestPersonalityBrokenDirectory(t *testing.T) {
	for _, tc := range versions {
		t.Run(tc.v, func(t *testing.T) {
			l := halfDeletedLab(t, tc.v)
			// Asking for the names one needs works in every version.
			if got := one(t, l, "ok"); got["status"] != "Stopped" {
				t.Errorf("list ok: %v", got)
			}
			res := l.Limactl("list", "--json")
			if !tc.backquotes {
				if res.ExitCode != 1 || !strings.HasPrefix(fatalMsg(t, res.Stderr), "unable to load instance half: ") {
					t.Errorf("≤2.1 list fails as a whole: %s", res)
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
			if res.ExitCode != 0 || len(lines) != 2 {
				t.Fatalf("2.2 list lists both: %s", res)
			}
			var half map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &half); err != nil {
				t.Fatal(err)
			}
			if half["name"] != "half" || half["status"] != "Broken" || !strings.Contains(lines[0], `"errors":[]`) {
				t.Errorf("broken instance line: %s", lines[0])
			}
			if !strings.Contains(res.Stderr, "instance `half` has errors") {
				t.Errorf("no warning naming the broken instance: %s", res.Stderr)
			}
		})
	}
}

// TestPersonalityRunning starts one instance per 2.x personality: the
// --progress output and the port a stopped instance reports.
func TestPersonalityRunning(t *testing.T) {
	for _, tc := range []struct {
		v             string
		portAfterStop bool // 2.1+ reads the stale ssh.config
	}{{"2.0.0", false}, {"2.2.0", true}} {
		t.Run(tc.v, func(t *testing.T) {
			l := lab.New(t, lab.LimaVersion(tc.v))
			res := l.MustLimactl("start", "--tty=false", "--progress", "--name=p", l.WriteLimaYAML("p", ""))
			started := strings.Index(res.Stderr, "Cloud-init provisioning started...")
			done := strings.Index(res.Stderr, "Cloud-init progress monitoring done.")
			ready := strings.Index(res.Stderr, "READY.")
			if started < 0 || done < started || ready < done || !strings.Contains(res.Stderr, "[cloud-init] ") {
				t.Errorf("start --progress output:\n%s", res.Stderr)
			}
			port := one(t, l, "p")["sshLocalPort"]
			l.MustLimactl("stop", "p")
			got, ok := one(t, l, "p")["sshLocalPort"]
			if ok != tc.portAfterStop || ok && got != port {
				t.Errorf("sshLocalPort after stop = %v (present %v), want the last port %v: %v", got, ok, port, tc.portAfterStop)
			}
		})
	}
}
