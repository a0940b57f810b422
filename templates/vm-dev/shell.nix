# The project's development shell. direnv loads it (`use flake` in .envrc, via
# flake.nix, or `use nix` without flakes); `nix-shell` and `nix develop` too.
#
# sysvm runs on the host: it gives this directory its own Lima VM and Zellij
# session. The flake passes sysvm in; without it, sysvm must be on PATH.
{ pkgs ? import <nixpkgs> { }, sysvm ? null }:
pkgs.mkShell {
  packages = [
    pkgs.lima # limactl, which sysvm drives
    pkgs.go-task # task lima:status, task lima:stop, ... (Taskfile.yml)
  ] ++ (if sysvm == null then [ ] else [ sysvm ]);

  # Nothing here enters the VM: sysvm's shell hook does that when you cd in
  # (add `eval "$(sysvm hook bash)"` to ~/.bashrc, after direnv's hook).
  shellHook = ''
    command -v sysvm >/dev/null 2>&1 ||
      echo "sysvm is not on PATH: use the flake (nix develop), or install it: go install github.com/sysvm/sysvm/cmd/sysvm@latest" >&2
  '';
}
