{
  # STUB — NOT nixpkgs. Tests pass it in place of nixpkgs with
  #   --override-input nixpkgs path:test/nix/stub-nixpkgs
  # so that sysvm's flake and its templates evaluate offline. See default.nix.
  description = "sysvm test stub standing in for nixpkgs (not nixpkgs)";

  outputs = { self }:
    let
      systems = [ "aarch64-darwin" "x86_64-darwin" "aarch64-linux" "x86_64-linux" ];
      lib = import ./lib.nix;
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs systems (system: import ./default.nix { inherit system; });
    };
}
