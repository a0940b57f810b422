{
  description = "A project with its own Lima VM and Zellij session (sysvm)";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    sysvm.url = "github:sysvm/sysvm";
    sysvm.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs = { self, nixpkgs, sysvm }:
    let
      systems = [ "aarch64-darwin" "x86_64-darwin" "aarch64-linux" "x86_64-linux" ];
      forAllSystems = f: builtins.listToAttrs (map
        (system: { name = system; value = f system nixpkgs.legacyPackages.${system}; })
        systems);
    in
    {
      # `use flake` in .envrc loads this shell: shell.nix, with sysvm added.
      devShells = forAllSystems (system: pkgs: {
        default = import ./shell.nix {
          inherit pkgs;
          sysvm = sysvm.packages.${system}.default;
        };
      });
    };
}
