package nixtest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// functions are lib/vm-shell.nix's functions.
var functions = []string{"destroyVM", "ensureVM", "enterVM", "generateLimaConfig", "stopVM", "vmExists", "vmRunning", "vmStatus"}

// evalLib evaluates body with `vm` bound to lib/vm-shell.nix (the working
// tree's) over the stub pkgs, and decodes its JSON into v.
func evalLib(t *testing.T, f *fixture, sysvm, body string, v any) {
	t.Helper()
	pkg := "null"
	if sysvm != "" {
		pkg = fmt.Sprintf("%q", sysvm)
	}
	expr := fmt.Sprintf(`let pkgs = import %s { system = %q; };
  vm = import %s { inherit pkgs; inherit (pkgs) lib; sysvm = %s; };
in %s`, f.stub, hostSystem(), filepath.Join(f.root, "lib", "vm-shell.nix"), pkg, body)
	out := run(t, f.root, nil, "nix-instantiate", "--eval", "--strict", "--json", "-E", expr)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// hostSystem is this machine as a Nix system, so that generateLimaConfig's
// default host is the one `sysvm config` describes.
func hostSystem() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	return arch + "-" + runtime.GOOS
}

func TestVMShellFunctions(t *testing.T) {
	f := setup(t)
	var names []string
	evalLib(t, f, "", "builtins.attrNames vm", &names)
	if !reflect.DeepEqual(names, functions) {
		t.Errorf("lib/vm-shell.nix has %v, want %v", names, functions)
	}
	// The flake's lib.<system> is the same set, with the flake's sysvm.
	out := run(t, f.copy, nil, "nix", append([]string{"eval", "--json", ".#lib.x86_64-linux", "--apply", "builtins.attrNames"}, f.override()...)...)
	if err := json.Unmarshal([]byte(out), &names); err != nil || !reflect.DeepEqual(names, functions) {
		t.Errorf("flake lib.x86_64-linux: %s", out)
	}
	var snippet string
	evalLib(t, f, "/nix/store/00000000000000000000000000000000-sysvm", `vm.stopVM { }`, &snippet)
	if snippet != "'/nix/store/00000000000000000000000000000000-sysvm/bin/sysvm' stop" {
		t.Errorf("with a sysvm package, stopVM is %q", snippet)
	}
}

// snippetCases are argument sets every snippet function is evaluated with.
var snippetCases = []struct{ name, args string }{
	{"defaults", `{ }`},
	{"project", `{ projectName = "demo"; projectDir = "/home/alice/my app/it's"; verbose = true; }`},
	{"vmName", `{ vmName = "web-dev"; }`},
	{"resources", `{ projectDir = "/p"; cpus = 2; memory = 8; disk = "60GiB"; image = "./img.qcow2"; ports = [ 3000 "8080:80" ]; background = true; json = true; }`},
}

// TestVMShellSnippets keeps every snippet in a golden file, checks each
// parses in bash and sh, and runs them against a stand-in sysvm that records
// its arguments, and the argument lists against the real sysvm's parser.
func TestVMShellSnippets(t *testing.T) {
	f := setup(t)
	var b strings.Builder
	all := map[string]map[string]string{}
	for _, c := range snippetCases {
		var got map[string]string
		evalLib(t, f, "", fmt.Sprintf(`builtins.mapAttrs (n: fn: fn %s) (removeAttrs vm [ "generateLimaConfig" ])`, c.args), &got)
		all[c.name] = got
		var fns []string
		for fn := range got {
			fns = append(fns, fn)
		}
		sort.Strings(fns)
		for _, fn := range fns {
			fmt.Fprintf(&b, "== %s %s\n%s\n", c.name, fn, got[fn])
			for _, sh := range []string{"bash", "sh"} {
				if out, err := exec.Command(sh, "-n", "-c", got[fn]).CombinedOutput(); err != nil {
					t.Errorf("%s %s: not valid %s: %v\n%s", c.name, fn, sh, err, out)
				}
			}
			if strings.Contains(got[fn], "exec") {
				t.Errorf("%s %s execs: %s", c.name, fn, got[fn])
			}
		}
	}
	golden := filepath.Join("testdata", "vm-shell-snippets.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, []byte(b.String()), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("snippets differ from %s (go test -update to accept):\n%s", golden, b.String())
	}

	// A sysvm stand-in: records its argv, one [arg] per argument, and for
	// `status --json` prints the state in $STUB_STATE as sysvm does.
	bin := t.TempDir()
	logf := filepath.Join(t.TempDir(), "argv")
	stub := `#!/bin/sh
for a in "$@"; do printf '[%s]' "$a"; done >> "$STUB_LOG"; echo >> "$STUB_LOG"
case " $* " in *" --json "*) printf '{\n  "project": "x",\n  "state": "%s",\n  "sessionState": "running"\n}\n' "$STUB_STATE" ;; esac
exit "${STUB_EXIT:-0}"
`
	if err := os.WriteFile(filepath.Join(bin, "sysvm"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	exec1 := func(snippet, state, exit string) (int, []string) {
		os.Remove(logf)
		cmd := exec.Command("sh", "-c", snippet)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "STUB_LOG="+logf, "STUB_STATE="+state, "STUB_EXIT="+exit)
		cmd.Stdout = nil
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(logf)
		return code, strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	for _, tc := range []struct {
		fn, state, exit string
		want            int
	}{
		{"vmExists", "NotCreated", "0", 1}, {"vmExists", "Stopped", "0", 0}, {"vmExists", "Running", "0", 0},
		{"vmExists", "Running", "1", 1},
		{"vmRunning", "NotCreated", "0", 1}, {"vmRunning", "Stopped", "0", 1}, {"vmRunning", "Running", "0", 0},
		{"vmRunning", "Running", "1", 1},
	} {
		if code, _ := exec1(all["project"][tc.fn], tc.state, tc.exit); code != tc.want {
			t.Errorf("%s with the VM %s (sysvm exit %s): exit %d, want %d", tc.fn, tc.state, tc.exit, code, tc.want)
		}
	}
	wantArgv := map[string]string{
		"project ensureVM":    "[up][--name][demo][--verbose][--][/home/alice/my app/it's]",
		"project enterVM":     "[attach][--name][demo][--verbose][--][/home/alice/my app/it's]",
		"project stopVM":      "[stop][--name][demo][--verbose][--][/home/alice/my app/it's]",
		"project destroyVM":   "[destroy][--name][demo][--verbose][--yes][--][/home/alice/my app/it's]",
		"project vmStatus":    "[status][--name][demo][--verbose][--][/home/alice/my app/it's]",
		"project vmExists":    "[status][--name][demo][--verbose][--json][--][/home/alice/my app/it's]",
		"vmName stopVM":       "[stop][--name][web]",
		"defaults ensureVM":   "[up]",
		"resources ensureVM":  "[up][--cpus][2][--memory][8GiB][--disk][60GiB][--image][./img.qcow2][--port][3000][--port][8080:80][--background][--][/p]",
		"resources vmStatus":  "[status][--json][--][/p]",
		"resources destroyVM": "[destroy][--yes][--][/p]",
	}
	for key, want := range wantArgv {
		c, fn, _ := strings.Cut(key, " ")
		_, argv := exec1(all[c][fn], "Running", "0")
		if len(argv) != 1 || argv[0] != want {
			t.Errorf("%s ran sysvm %v, want %s", key, argv, want)
			continue
		}
		// The real sysvm accepts these flags: --help parses them all first.
		args := strings.Split(strings.Trim(want, "[]"), "][")
		if i := indexOf(args, "--"); i >= 0 {
			args = args[:i]
		}
		args = append(args, "--help")
		if out, err := exec.Command(f.sysvm, args...).CombinedOutput(); err != nil {
			t.Errorf("sysvm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// normalize turns parsed YAML or JSON into the same Go types.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	json.Unmarshal(b, &out)
	return out
}

// TestGenerateLimaConfigMatchesSysvm compares generateLimaConfig with what
// `sysvm config` prints for the same arguments, as parsed data.
func TestGenerateLimaConfigMatchesSysvm(t *testing.T) {
	f := setup(t)
	base := t.TempDir()
	if r, err := filepath.EvalSymlinks(base); err == nil {
		base = r
	}
	tests := []struct {
		name  string
		dir   string // under base
		nix   string // arguments besides projectDir
		flags []string
	}{
		{name: "defaults", dir: "myapp"},
		{name: "name and size", dir: "myapp", nix: `projectName = "demo"; cpus = 2; memory = 8; disk = "60GiB";`,
			flags: []string{"--name", "demo", "--cpus", "2", "--memory", "8", "--disk", "60GiB"}},
		{name: "vmName", dir: "web", nix: `vmName = "shop-dev";`, flags: []string{"--name", "shop"}},
		{name: "ports", dir: "api", nix: `ports = [ 3000 "8080:80" "9090" ];`,
			flags: []string{"--port", "3000", "--port", "8080:80", "--port", "9090"}},
		{name: "image URL and fractional sizes", dir: "img", nix: `image = "https://example.invalid/x.qcow2"; memory = "512MiB"; disk = "1.5TiB";`,
			flags: []string{"--image", "https://example.invalid/x.qcow2", "--memory", "512MiB", "--disk", "1.5TiB"}},
		{name: "relative image", dir: "rel", nix: `image = "./images/dev.qcow2";`, flags: []string{"--image", "./images/dev.qcow2"}},
		{name: "directory with spaces", dir: "My Project", nix: `projectName = "my-project";`, flags: []string{"--name", "my-project"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(base, tt.name, tt.dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			var fromNix string
			evalLib(t, f, "", fmt.Sprintf(`vm.generateLimaConfig { projectDir = %q; %s }`, dir, tt.nix), &fromNix)
			var nixData any
			if err := yaml.Unmarshal([]byte(fromNix), &nixData); err != nil {
				t.Fatalf("generateLimaConfig is not YAML: %v\n%s", err, fromNix)
			}

			cmd := exec.Command(f.sysvm, append(append([]string{"config"}, tt.flags...), dir)...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + base, "LIMA_HOME=" + filepath.Join(base, ".lima"), "SYSVM_STATE_DIR=" + filepath.Join(base, "state")}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("sysvm config: %v", err)
			}
			var sysvmData any
			if err := yaml.Unmarshal(out, &sysvmData); err != nil {
				t.Fatal(err)
			}
			if a, b := normalize(t, nixData), normalize(t, sysvmData); !reflect.DeepEqual(a, b) {
				ja, _ := json.MarshalIndent(a, "", "  ")
				jb, _ := json.MarshalIndent(b, "", "  ")
				t.Errorf("generateLimaConfig:\n%s\nsysvm config:\n%s", ja, jb)
			}
		})
	}

	// Against limaconfig's own goldens, for a host this machine is not.
	for _, g := range []struct{ system, golden string }{
		{"x86_64-linux", "linux-default"}, {"aarch64-darwin", "darwin-default"},
	} {
		var fromNix string
		evalLib(t, f, "", fmt.Sprintf(`vm.generateLimaConfig { projectDir = "/PROJECT/myapp"; system = %q; }`, g.system), &fromNix)
		want, err := os.ReadFile(filepath.Join(f.root, "limaconfig", "testdata", g.golden+".golden.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		yaml.Unmarshal([]byte(fromNix), &a)
		yaml.Unmarshal(want, &b)
		if !reflect.DeepEqual(normalize(t, a), normalize(t, b)) {
			t.Errorf("generateLimaConfig for %s differs from limaconfig/testdata/%s.golden.yaml:\n%s", g.system, g.golden, fromNix)
		}
	}
}

// TestVMShellErrors checks the library refuses what sysvm would refuse,
// with a message that names the argument.
func TestVMShellErrors(t *testing.T) {
	f := setup(t)
	for _, tc := range []struct{ expr, want string }{
		{`vm.stopVM { vmName = "web"; }`, "must end in -dev"},
		{`vm.stopVM { vmName = "web-dev"; projectName = "shop"; }`, "does not match projectName"},
		{`vm.stopVM { projectName = "no spaces"; }`, "is not valid"},
		{`vm.stopVM { memroy = "8GiB"; }`, "unknown argument"},
		{`vm.ensureVM { memory = "lots"; }`, "is not a size"},
		{`vm.ensureVM { cpus = 0; }`, "between 1 and 512"},
		{`vm.ensureVM { ports = [ 22 ]; }`, "SSH port"},
		{`vm.ensureVM { ports = [ "80:x" ]; }`, "not PORT or HOST:GUEST"},
		{`vm.generateLimaConfig { }`, "needs projectDir"},
		{`vm.generateLimaConfig { projectDir = "rel/dir"; }`, "not an absolute path"},
		{`vm.generateLimaConfig { projectDir = "/tmp/My App"; }`, "pass projectName"},
	} {
		expr := fmt.Sprintf(`let pkgs = import %s { system = "x86_64-linux"; };
  vm = import %s { inherit pkgs; inherit (pkgs) lib; }; in %s`, f.stub, filepath.Join(f.root, "lib", "vm-shell.nix"), tc.expr)
		_, err := tryRun(f.root, nil, "nix-instantiate", "--eval", "--strict", "-E", expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want an error with %q, got %v", tc.expr, tc.want, err)
		}
	}
}
