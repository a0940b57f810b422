# The project's shell: Lima for sysvm. direnv loads it (`use nix` in .envrc).
{ pkgs ? import <nixpkgs> { } }:
pkgs.mkShell {
  packages = [ pkgs.lima ];
}
