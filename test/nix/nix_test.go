// Package nixtest checks sysvm's Nix side with a real Nix (Debian's 2.8 is
// enough): the flake, its templates, lib/vm-shell.nix, the Home Manager
// module and vendorHash. nixpkgs cannot be fetched here, so the flake's
// nixpkgs input is replaced by the stub in stub-nixpkgs/ (--override-input).
//
// A flake in a git checkout sees only tracked files, and these tests must see
// the working tree, so they run against a copy of the repository in a temp
// directory: its tracked and untracked (not ignored) files, committed to a
// fresh git repository, with a flake.lock that pins nixpkgs to the stub
// (`nix flake init -t` locks the template's flake and has no override flag).
//
// Without nix the tests skip; with CI set they fail, since CI must have it
// (test/nix/deps.sh installs it).
package nixtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sysvm/sysvm/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files, and flake.nix's vendorHash")

// systems are the flake's systems.
var systems = []string{"aarch64-darwin", "x86_64-darwin", "aarch64-linux", "x86_64-linux"}

// nixConf is the suite's nix.conf, the only Nix configuration its Nix
// processes read (see suiteEnv): flakes on, no substituters, builds as the
// calling user (a --no-install-recommends install has no nixbld group), and
// the build sandbox on. The stub nixpkgs' builders run the host's /bin/sh and
// coreutils, so the sandbox binds the host's /bin, /usr and libraries in;
// sandbox-fallback = false makes a machine that cannot sandbox fail loudly
// instead of building unsandboxed.
const nixConf = `experimental-features = nix-command flakes
substituters =
build-users-group =
warn-dirty = false
sandbox = true
sandbox-fallback = false
sandbox-paths = /bin /usr /lib? /lib64?
`

type fixture struct {
	root  string // the repository
	copy  string // the committed copy the flake is evaluated from
	stub  string // stub-nixpkgs, absolute
	conf  string // the directory holding nixConf as nix.conf (NIX_CONF_DIR)
	sysvm string // sysvm built from the working tree
	err   error
}

var (
	fix     fixture
	fixOnce sync.Once
	tmpRoot string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if tmpRoot != "" {
		os.RemoveAll(tmpRoot)
	}
	os.Exit(code)
}

// need skips the test when a tool is missing, or fails it when CI is set.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s is not installed; run test/nix/deps.sh (apt-get install nix-bin git direnv)", tool)
			if os.Getenv("CI") != "" {
				t.Fatalf("%s, and CI is set: CI must run these tests", msg)
			}
			t.Skip(msg)
		}
	}
}

// setup prepares the fixture once per test binary.
func setup(t *testing.T) *fixture {
	t.Helper()
	need(t, "nix", "nix-instantiate", "git", "go")
	fixOnce.Do(func() { fix.err = fix.prepare() })
	if fix.err != nil {
		t.Fatal(fix.err)
	}
	return &fix
}

func (f *fixture) prepare() error {
	var err error
	if f.root, err = filepath.Abs("../.."); err != nil {
		return err
	}
	if tmpRoot, err = os.MkdirTemp("", "sysvm-nixtest-"); err != nil {
		return err
	}
	f.stub = filepath.Join(f.root, "test", "nix", "stub-nixpkgs")
	f.conf = filepath.Join(tmpRoot, "nix-conf")
	if err := os.Mkdir(f.conf, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.conf, "nix.conf"), []byte(nixConf), 0o644); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(tmpRoot, "tmp"), 0o700); err != nil {
		return err
	}
	f.copy = filepath.Join(tmpRoot, "repo")
	f.sysvm = filepath.Join(tmpRoot, "bin", "sysvm")

	build := exec.Command("go", "build", "-o", f.sysvm, "./cmd/sysvm")
	build.Dir = f.root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building sysvm: %v\n%s", err, out)
	}

	// The files git would commit: tracked and untracked, minus ignored.
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = f.root
	out, err := ls.Output()
	if err != nil {
		return fmt.Errorf("listing the repository's files (is %s a git checkout?): %v", f.root, err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(f.root, rel)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or a symlink we do not need
		}
		dst := filepath.Join(f.copy, rel)
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, st.Mode().Perm()); err != nil {
			return err
		}
	}
	git := func(args ...string) error {
		cmd := exec.Command("git", args...)
		cmd.Dir = f.copy
		cmd.Env = f.env(os.Environ(), nil)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := git("init", "-q"); err != nil {
		return err
	}
	if err := git("add", "-A"); err != nil {
		return err
	}
	lock := exec.Command("nix", "flake", "lock", "--override-input", "nixpkgs", "path:"+f.stub)
	lock.Dir = f.copy
	lock.Env = f.env(os.Environ(), nil)
	if out, err := lock.CombinedOutput(); err != nil {
		return fmt.Errorf("nix flake lock: %v\n%s", err, out)
	}
	if err := git("add", "-A"); err != nil {
		return err
	}
	return git("commit", "-q", "-m", "test copy")
}

// env is the environment of every process the suite runs: parent without
// its NIX_* and GIT_CONFIG* variables, then the suite's own Nix and git
// configuration and temporary directory, then extra. Nix reads
// NIX_CONF_DIR/nix.conf in place of /etc/nix/nix.conf and
// NIX_USER_CONF_FILES in place of ~/.config/nix, so
// the machine's settings can neither help nor hurt (Nix's manual, nix.conf,
// "Configuration file"; NIX_CONFIG from the parent is dropped too). Git,
// which Nix runs for git+file flakes, reads no /etc/gitconfig nor
// ~/.gitconfig.
func (f *fixture) env(parent, extra []string) []string {
	var env []string
	for _, kv := range parent {
		if !strings.HasPrefix(kv, "NIX_") && !strings.HasPrefix(kv, "GIT_CONFIG") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"NIX_CONF_DIR="+f.conf,
		"NIX_USER_CONF_FILES="+filepath.Join(f.conf, "nix.conf"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=sysvm test", "GIT_AUTHOR_EMAIL=test@invalid",
		"GIT_COMMITTER_NAME=sysvm test", "GIT_COMMITTER_EMAIL=test@invalid",
		// nix develop leaves an empty nix-shell.* directory in TMPDIR.
		"TMPDIR="+filepath.Join(tmpRoot, "tmp"),
	)
	return append(env, extra...)
}

// ref is the copy as a flake reference.
func (f *fixture) ref() string { return "git+file://" + f.copy }

// override is the flag pair that replaces nixpkgs by the stub.
func (f *fixture) override() []string {
	return []string{"--override-input", "nixpkgs", "path:" + f.stub}
}

// nix runs nix (or nix-instantiate, ...) in dir and returns stdout; stderr is
// shown when it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tryRun(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

func tryRun(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = fix.env(os.Environ(), env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%v\n%s", err, stderr.String())
	}
	return stdout.String(), nil
}

// templateFiles lists the files of an embedded template, sorted.
func templateFiles(t *testing.T, tmpl string) []string {
	t.Helper()
	var names []string
	sub, _ := fs.Sub(templates.Projects, tmpl)
	fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	sort.Strings(names)
	return names
}

func TestFlakeShow(t *testing.T) {
	f := setup(t)
	out := run(t, f.copy, nil, "nix", append([]string{"flake", "show", "--json"}, f.override()...)...)
	var show struct {
		Templates map[string]struct {
			Description string `json:"description"`
			Type        string `json:"type"`
		} `json:"templates"`
		Packages  map[string]map[string]struct{ Name string } `json:"packages"`
		Apps      map[string]map[string]struct{ Type string } `json:"apps"`
		DevShells map[string]map[string]struct{ Name string } `json:"devShells"`
		Checks    map[string]map[string]struct{ Name string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &show); err != nil {
		t.Fatalf("nix flake show --json: %v\n%s", err, out)
	}
	for _, name := range append([]string{"default"}, templates.ProjectTemplates...) {
		tm, ok := show.Templates[name]
		if !ok || tm.Description == "" || tm.Type != "template" {
			t.Errorf("templates.%s: %+v", name, tm)
		}
	}
	for _, sys := range systems {
		if p := show.Packages[sys]["default"]; !strings.HasPrefix(p.Name, "sysvm-") {
			t.Errorf("packages.%s.default: %+v", sys, p)
		}
		if _, ok := show.Apps[sys]["default"]; !ok {
			t.Errorf("apps.%s.default is missing", sys)
		}
		if _, ok := show.DevShells[sys]["default"]; !ok {
			t.Errorf("devShells.%s.default is missing", sys)
		}
		if len(show.Checks[sys]) == 0 {
			t.Errorf("checks.%s is empty", sys)
		}
	}
}

// TestFlakeCheck runs `nix flake check`, which in Nix 2.8 validates the
// templates and builds this system's checks (on the stub: the snippet and
// template checks, the template shells and a stand-in package).
func TestFlakeCheck(t *testing.T) {
	f := setup(t)
	run(t, f.copy, nil, "nix", append([]string{"flake", "check"}, f.override()...)...)
}

func TestTemplatesEval(t *testing.T) {
	f := setup(t)
	run(t, f.copy, nil, "nix", append([]string{"eval", ".#templates.vm-dev"}, f.override()...)...)

	out := run(t, f.copy, nil, "nix", append([]string{"eval", "--json", ".#templates", "--apply",
		`ts: builtins.mapAttrs (n: t: { inherit (t) description welcomeText; exists = builtins.pathExists t.path; files = builtins.attrNames (builtins.readDir t.path); }) ts`},
		f.override()...)...)
	var got map[string]struct {
		Description, WelcomeText string
		Exists                   bool
		Files                    []string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	for _, name := range templates.ProjectTemplates {
		tm := got[name]
		if !tm.Exists {
			t.Errorf("templates.%s.path does not exist in the flake's source (not tracked by git?)", name)
			continue
		}
		sort.Strings(tm.Files)
		if want := templateFiles(t, name); strings.Join(tm.Files, " ") != strings.Join(want, " ") {
			t.Errorf("templates.%s holds %v; sysvm init's embed holds %v", name, tm.Files, want)
		}
		for _, w := range []string{"direnv allow", "sysvm hook bash"} {
			if !strings.Contains(tm.WelcomeText, w) {
				t.Errorf("templates.%s.welcomeText does not mention %q", name, w)
			}
		}
	}
	if got["default"].Description != got["vm-dev"].Description {
		t.Error("templates.default is not vm-dev")
	}
}

// promised are the files each template must write (the list).
var promised = map[string][]string{
	"vm-dev":     {"shell.nix", ".envrc", ".gitignore", "flake.nix", "Taskfile.yml"},
	"vm-minimal": {"shell.nix", ".envrc", ".gitignore"},
	"vm-custom":  {"shell.nix", ".envrc", ".gitignore", "flake.nix", "Taskfile.yml", "sysvm.yaml", "README.sysvm.md"},
}

// TestFlakeInit writes each template with `nix flake init` and checks the
// files are exactly what `sysvm init` writes.
func TestFlakeInit(t *testing.T) {
	f := setup(t)
	for _, tmpl := range templates.ProjectTemplates {
		t.Run(tmpl, func(t *testing.T) {
			byNix := t.TempDir()
			run(t, byNix, nil, "nix", "flake", "init", "-t", f.ref()+"#"+tmpl)
			bySysvm := t.TempDir()
			run(t, bySysvm, nil, f.sysvm, "init", "--quiet", "--template", tmpl)
			want := templateFiles(t, tmpl)
			for _, name := range promised[tmpl] {
				if _, err := os.Stat(filepath.Join(byNix, name)); err != nil {
					t.Errorf("nix flake init -t #%s did not write %s", tmpl, name)
				}
			}
			for _, name := range want {
				a, err := os.ReadFile(filepath.Join(byNix, name))
				if err != nil {
					t.Errorf("nix flake init did not write %s", name)
					continue
				}
				b, _ := os.ReadFile(filepath.Join(bySysvm, name))
				if !bytes.Equal(a, b) {
					t.Errorf("%s: nix flake init and sysvm init wrote different files", name)
				}
			}
			entries, _ := os.ReadDir(byNix)
			if len(entries) != len(want) {
				t.Errorf("nix flake init wrote %d files, want %d (%v)", len(entries), len(want), want)
			}
			// The shell.nix it wrote evaluates (against the stub nixpkgs).
			drv := run(t, byNix, []string{"NIX_PATH=nixpkgs=" + f.stub}, "nix-instantiate", "shell.nix")
			if !strings.HasSuffix(strings.TrimSpace(drv), ".drv") {
				t.Errorf("nix-instantiate shell.nix printed %q", drv)
			}
		})
	}
}

// TestProjectFlake evaluates the flake that vm-dev writes into a project,
// with sysvm's flake as its input, and enters its dev shell.
func TestProjectFlake(t *testing.T) {
	f := setup(t)
	for _, tmpl := range []string{"vm-dev", "vm-custom"} {
		t.Run(tmpl, func(t *testing.T) {
			dir := t.TempDir()
			run(t, dir, nil, f.sysvm, "init", "--quiet", "--template", tmpl)
			ov := append(f.override(), "--override-input", "sysvm", f.ref())
			hook := run(t, dir, nil, "nix", append([]string{"eval", "--raw", ".#devShells.x86_64-linux.default.shellHook"}, ov...)...)
			if strings.Contains(hook, "exec") || strings.Contains(hook, "limactl shell") {
				t.Errorf("the dev shell's shellHook must not enter the VM:\n%s", hook)
			}
			for _, sys := range systems {
				run(t, dir, nil, "nix", append([]string{"eval", "--raw", ".#devShells." + sys + ".default.drvPath"}, ov...)...)
			}
			out := run(t, dir, nil, "nix", append([]string{"develop"}, append(ov, "-c", "bash", "-c", "command -v sysvm limactl task")...)...)
			for _, tool := range []string{"/bin/sysvm", "/bin/limactl", "/bin/task"} {
				if !strings.Contains(out, tool) {
					t.Errorf("the dev shell has no %s on PATH:\n%s", tool, out)
				}
			}
		})
	}
}

// TestHomeManagerModule calls the module as Home Manager would, with the
// stub's lib (whose mkIf, mkMerge and mkOrder return nixpkgs' tagged
// values), and reads what it configures.
func TestHomeManagerModule(t *testing.T) {
	f := setup(t)
	expr := fmt.Sprintf(`
let
  flake = builtins.getFlake %[1]q;
  pkgs = flake.inputs.nixpkgs.legacyPackages.%[2]s;
  module = flake.homeManagerModules.default;
  eval = settings: module {
    inherit pkgs;
    inherit (flake.inputs.nixpkgs) lib;
    options.programs.zsh.initContent = { };
    config = { home.shell = { }; programs.sysvm = settings; };
  };
  on = eval { enable = true; package = flake.packages.%[2]s.default;
    enableBashIntegration = true; enableZshIntegration = true; enableFishIntegration = false; };
  parts = on.config.content.contents;
in {
  options = builtins.attrNames on.options.programs.sysvm;
  defaultPackage = on.options.programs.sysvm.package.default.outPath;
  package = flake.packages.%[2]s.default.outPath;
  enabledWhen = on.config.condition;
  first = parts;
}`, f.ref(), hostSystem())
	out := run(t, f.copy, nil, "nix", "eval", "--impure", "--json", "--expr", expr)
	var got struct {
		Options        []string
		DefaultPackage string
		Package        string
		EnabledWhen    bool
		First          []json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if want := "enable enableBashIntegration enableFishIntegration enableZshIntegration package"; strings.Join(got.Options, " ") != want {
		t.Errorf("options.programs.sysvm: %v, want %s", got.Options, want)
	}
	if got.DefaultPackage != got.Package || !got.EnabledWhen {
		t.Errorf("package default %q (want %q), condition %v", got.DefaultPackage, got.Package, got.EnabledWhen)
	}
	if len(got.First) != 4 {
		t.Fatalf("config has %d parts, want 4:\n%s", len(got.First), out)
	}
	var base struct {
		Home     struct{ Packages []string }
		Programs struct {
			Direnv struct {
				Enable struct {
					Type    string `json:"_type"`
					Content bool
				}
				Stdlib string
			}
		}
	}
	json.Unmarshal(got.First[0], &base)
	if len(base.Home.Packages) != 1 || base.Home.Packages[0] != got.Package {
		t.Errorf("home.packages = %v, want [%s]", base.Home.Packages, got.Package)
	}
	if !strings.Contains(base.Programs.Direnv.Stdlib, "source /nix/store/") || !strings.Contains(base.Programs.Direnv.Stdlib, "-sysvm-direnvrc") {
		t.Errorf("programs.direnv.stdlib does not source the generated library:\n%s", base.Programs.Direnv.Stdlib)
	}
	if base.Programs.Direnv.Enable.Type != "override" || !base.Programs.Direnv.Enable.Content {
		t.Errorf("programs.direnv.enable should be mkDefault true: %+v", base.Programs.Direnv.Enable)
	}
	type shellPart struct {
		Condition bool
		Content   map[string]map[string]map[string]struct {
			Type     string `json:"_type"`
			Priority int
			Content  string
		}
	}
	for i, want := range []struct {
		shell, option string
		enabled       bool
	}{{"bash", "initExtra", true}, {"zsh", "initContent", true}, {"fish", "interactiveShellInit", false}} {
		var p shellPart
		json.Unmarshal(got.First[i+1], &p)
		v := p.Content["programs"][want.shell][want.option]
		if p.Condition != want.enabled || v.Type != "order" || v.Priority <= 1500 ||
			!strings.Contains(v.Content, "-sysvm-hook-"+want.shell) {
			t.Errorf("%s hook: condition %v (want %v), programs.%s.%s = %+v (want after direnv's mkAfter, sourcing sysvm-hook-%s)",
				want.shell, p.Condition, want.enabled, want.shell, want.option, v, want.shell)
		}
	}

	// The generated hook builds: with the stub sysvm it holds the stub's echo.
	buildExpr := fmt.Sprintf(`let flake = builtins.getFlake %[1]q; pkgs = flake.inputs.nixpkgs.legacyPackages.%[2]s;
	  m = flake.homeManagerModules.default { inherit pkgs; inherit (flake.inputs.nixpkgs) lib; options = { };
	    config = { home.shell = { }; programs.sysvm = { enable = true; package = flake.packages.%[2]s.default;
	      enableBashIntegration = true; enableZshIntegration = false; enableFishIntegration = false; }; }; };
	  line = (builtins.elemAt m.config.content.contents 1).content.programs.bash.initExtra.content;
	  hook = builtins.substring 7 (builtins.stringLength line - 8) line;
	in pkgs.runCommand "sysvm-hm-hook-check" { } "cat ${hook} > $out; echo done"`, f.ref(), hostSystem())
	res := run(t, f.copy, nil, "nix", "build", "--no-link", "--json", "--impure", "--expr", buildExpr)
	var built []struct{ Outputs map[string]string }
	if err := json.Unmarshal([]byte(res), &built); err != nil || len(built) != 1 {
		t.Fatalf("nix build --json: %v\n%s", err, res)
	}
	if b, _ := os.ReadFile(built[0].Outputs["out"]); string(b) != "stub sysvm hook bash\n" {
		t.Errorf("the generated bash hook holds %q, want the output of `sysvm hook bash`", b)
	}
}
