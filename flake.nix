{
  description = "sysvm: a Lima VM and a Zellij session for every project directory";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "aarch64-darwin" "x86_64-darwin" "aarch64-linux" "x86_64-linux" ];
      forAllSystems = f: builtins.listToAttrs (map
        (system: { name = system; value = f system nixpkgs.legacyPackages.${system}; })
        systems);

      version = "0-unstable-" + (self.shortRev or "dirty");

      # vendorHash is the hash of `go mod vendor` run on src (what buildGoModule
      # fetches). It changes only when the non-test Go code imports a new
      # package or go.mod changes; test/nix/vendorhash_test.go recomputes it
      # (go test ./test/nix -run VendorHash -update rewrites this line).
      vendorHash = "sha256-mJEmvU5eC5LEYlEkAp1aAnwMBqvSn2OsvYLmEY/wL4M=";

      # src is what the Go build needs: no tests, test data, docs or Nix
      # files, so editing those neither rebuilds sysvm nor moves vendorHash.
      root = toString ./.;
      src = builtins.path {
        name = "sysvm-source";
        path = ./.;
        filter = path: type:
          let
            rel = builtins.substring (builtins.stringLength root + 1) (builtins.stringLength path) path;
            base = baseNameOf path;
          in
          !(builtins.elem rel [ "test" "docs" "lib" ".ci" ".github" ".direnv" "vendor" "flake.nix" "flake.lock" "Taskfile.yml" ]
            || builtins.match "result(-.*)?" rel != null
            || builtins.match ".*_test\\.go" base != null
            || (type == "directory" && base == "testdata"));
      };

      # welcomeText: what `nix flake init` prints after writing the files.
      welcome = { template, first ? "`git add -A` (a flake sees only the files git tracks)", extra ? "" }: ''
        # sysvm: ${template}

        This directory now gets its own Lima VM and Zellij session.

        Next steps:

        1. ${first}
        2. `direnv allow` to load the dev shell and `use sysvm`
        3. once per machine, add sysvm's hook after direnv's to your shell's rc
           file, e.g. `eval "$(sysvm hook bash)"` in ~/.bashrc; then `cd` here
           enters the VM (or run `sysvm attach`)
        4. `sysvm status` shows the VM; `sysvm config` shows its Lima config
      '' + extra;
    in
    {
      packages = forAllSystems (system: pkgs: {
        default = self.packages.${system}.sysvm;
        sysvm = pkgs.buildGoModule {
          pname = "sysvm";
          inherit version src vendorHash;
          subPackages = [ "cmd/sysvm" ];
          ldflags = [ "-s" "-w" "-X github.com/sysvm/sysvm/cmd/sysvm/cli.Version=${version}" ];
          # The tests drive sshd, tmux, real shells and Lima; they run in CI
          # (test/run.sh), not in the sandbox. src carries none of them.
          doCheck = false;
          meta = {
            description = "A Lima VM and a Zellij session for every project directory";
            homepage = "https://github.com/sysvm/sysvm";
            mainProgram = "sysvm";
          };
        };
      });

      apps = forAllSystems (system: pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${system}.default}/bin/sysvm";
        };
      });

      devShells = forAllSystems (system: pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.go pkgs.gopls pkgs.lima pkgs.go-task ];
        };
      });

      templates = {
        default = self.templates.vm-dev;
        vm-dev = {
          path = ./templates/vm-dev;
          description = "A project with its own Lima VM and Zellij session: flake, shell.nix, .envrc, Taskfile";
          welcomeText = welcome {
            template = "vm-dev";
            extra = "5. `task --list` shows the lima:* tasks (lima:status, lima:stop, ...)\n";
          };
        };
        vm-minimal = {
          path = ./templates/vm-minimal;
          description = "The least a sysvm project needs: shell.nix, .envrc, .gitignore";
          welcomeText = welcome {
            template = "vm-minimal";
            first = "install sysvm and Lima (shell.nix adds Lima; sysvm must be on PATH)";
          };
        };
        vm-custom = {
          path = ./templates/vm-custom;
          description = "A sysvm project set up for customising: commented sysvm.yaml and a guide (README.sysvm.md)";
          welcomeText = welcome {
            template = "vm-custom";
            extra = "5. edit sysvm.yaml (CPUs, memory, ports, image, layout); README.sysvm.md says what each setting does\n";
          };
        };
      };

      # The VM library. lib.<system> holds its functions for that system's
      # nixpkgs and this flake's sysvm; lib.vmShell builds them for any pkgs.
      lib = {
        vmShell = { pkgs, lib ? pkgs.lib, sysvm ? self.packages.${pkgs.stdenv.hostPlatform.system}.default or null }:
          import ./lib/vm-shell.nix { inherit pkgs lib sysvm; };
      } // forAllSystems (system: pkgs: import ./lib/vm-shell.nix {
        inherit pkgs;
        inherit (nixpkgs) lib;
        sysvm = self.packages.${system}.default;
      });

      homeManagerModules.default = import ./lib/home-manager.nix self;

      checks = forAllSystems (system: pkgs:
        let
          vm = self.lib.${system};
          sysvm = self.packages.${system}.default;
          example = { projectDir = "/home/alice/my app"; projectName = "myapp"; cpus = 2; memory = "8GiB"; ports = [ 3000 "8080:80" ]; verbose = true; };
          config = builtins.fromJSON (vm.generateLimaConfig example);
          snippetNames = [ "vmExists" "vmRunning" "ensureVM" "enterVM" "stopVM" "destroyVM" "vmStatus" ];
          shellOf = t:
            let f = import ./templates/${t}/shell.nix;
            in f (builtins.intersectAttrs (builtins.functionArgs f) { inherit pkgs sysvm; });
        in
        assert config.env.PROJECT_NAME == "myapp" && config.mounts == [{ location = "/home/alice/my app"; mountPoint = "/home/alice/my app"; writable = true; }];
        {
          package = sysvm;
          template-vm-dev-shell = shellOf "vm-dev";
          template-vm-minimal-shell = shellOf "vm-minimal";
          template-vm-custom-shell = shellOf "vm-custom";

          # Every snippet parses as shell; none of them execs.
          vm-shell = pkgs.runCommand "sysvm-vm-shell-check"
            (builtins.listToAttrs (map (f: { name = "snippet_${f}"; value = vm.${f} example; }) snippetNames)) ''
            for f in ${builtins.concatStringsSep " " snippetNames}; do
              eval "s=\$snippet_$f"
              bash -n -c "$s" || { echo "$f: not valid shell: $s" >&2; exit 1; }
              case $s in *exec*) echo "$f execs: $s" >&2; exit 1 ;; esac
            done
            echo ok > "$out"
          '';

          # The templates hold what `nix flake init` and `sysvm init` promise.
          templates = pkgs.runCommand "sysvm-templates-check" { } ''
            check() {
              dir=$1; shift
              for f in "$@"; do
                [ -f "$dir/$f" ] || { echo "template $dir lacks $f" >&2; exit 1; }
              done
              grep -q '^use sysvm$' "$dir/.envrc" || { echo "$dir/.envrc lacks 'use sysvm'" >&2; exit 1; }
              bash -n "$dir/.envrc"
            }
            check ${./templates/vm-dev} shell.nix .envrc .gitignore flake.nix Taskfile.yml
            check ${./templates/vm-minimal} shell.nix .envrc .gitignore
            check ${./templates/vm-custom} shell.nix .envrc .gitignore flake.nix Taskfile.yml sysvm.yaml README.sysvm.md
            echo ok > "$out"
          '';
        });
    };
}
