# STUB — NOT nixpkgs. The few packages and builders sysvm's Nix files use,
# with nixpkgs' names and argument shapes, built from /bin/sh and /bin/bash
# so that evaluation and the tiny builds in `nix flake check` work offline
# under Debian's Nix 2.8. The builds run in Nix's sandbox, into which the
# test suite's nix.conf binds the host's /bin, /usr and libraries
# (sandbox-paths); they need nothing else. Tools are scripts that say they
# are stubs; buildGoModule checks its required arguments and builds nothing.
#
# Builders end with a shell builtin: Nix 2.8 may SIGKILL a builder whose
# last process is a coreutils program (NixOS/nix#2176).
{ system ? builtins.currentSystem, ... }:
let
  lib = import ./lib.nix;
  hostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  binPath = pkgs: builtins.concatStringsSep ":" (map (p: "${p}/bin") pkgs);

  # A stand-in for a command-line tool: bin/<name> prints that it is a stub.
  tool = name: builtins.derivation {
    inherit system;
    name = "${name}-stub";
    builder = "/bin/sh";
    PATH = hostPath;
    args = [
      "-c"
      ''
        mkdir -p "$out/bin"
        printf '#!/bin/sh\necho "stub ${name} $*"\n' > "$out/bin/${name}"
        chmod +x "$out/bin/${name}"
        echo done
      ''
    ];
  };

  runCommand = name: env: script:
    let
      inputs = (env.nativeBuildInputs or [ ]) ++ (env.buildInputs or [ ]);
    in
    builtins.derivation (removeAttrs env [ "nativeBuildInputs" "buildInputs" "passthru" ] // {
      inherit name system;
      builder = "/bin/bash";
      args = [ "-c" script ];
      PATH = (if inputs == [ ] then "" else binPath inputs + ":") + hostPath;
    }) // (env.passthru or { });

  pkgs = {
    inherit lib system runCommand;
    stdenv.hostPlatform.system = system;

    lima = tool "limactl";
    go = tool "go";
    gopls = tool "gopls";
    go-task = tool "task";
    direnv = tool "direnv";
    git = tool "git";

    writeText = name: text: runCommand name { inherit text; } ''printf '%s' "$text" > "$out"'';

    # nix develop needs the builder to be bash and $outputs in the
    # environment; nix-shell and direnv's `use nix` only need the attributes.
    mkShell = { name ? "nix-shell", packages ? [ ], buildInputs ? [ ], nativeBuildInputs ? [ ], shellHook ? "", ... }@args:
      let inputs = packages ++ buildInputs ++ nativeBuildInputs;
      in builtins.derivation (removeAttrs args [ "packages" "buildInputs" "nativeBuildInputs" "passthru" "meta" ] // {
        inherit name system shellHook;
        builder = "/bin/bash";
        args = [ "-c" ''echo "stub mkShell: nothing to build" > "$out"'' ];
        outputs = [ "out" ];
        buildInputs = inputs;
        PATH = (if inputs == [ ] then "" else binPath inputs + ":") + hostPath;
      });

    # The real one fetches the modules in a fixed-output derivation and
    # builds; this checks the arguments the real one requires and keeps the
    # attributes it passes through, so tests can read src and vendorHash.
    buildGoModule = { pname, version, src, vendorHash, meta ? { }, passthru ? { }, ... }@args:
      assert builtins.isString pname && builtins.isString version;
      assert vendorHash == null || (builtins.isString vendorHash && builtins.match "sha256-[A-Za-z0-9+/]{43}=" vendorHash != null)
        || throw "stub buildGoModule: vendorHash must be null or an SRI sha256 hash, got ${builtins.toJSON vendorHash}";
      let
        bin = meta.mainProgram or pname;
        drv = builtins.derivation {
          inherit system src;
          name = "${pname}-${version}";
          builder = "/bin/sh";
          PATH = hostPath;
          args = [
            "-c"
            ''
              mkdir -p "$out/bin"
              printf '#!/bin/sh\necho "stub ${bin} $*"\n' > "$out/bin/${bin}"
              chmod +x "$out/bin/${bin}"
              echo done
            ''
          ];
        };
      in
      drv // passthru // {
        inherit src vendorHash meta pname version;
        ldflags = args.ldflags or [ ];
        subPackages = args.subPackages or [ ];
      };
  };
in
pkgs
