# STUB — NOT nixpkgs. A few functions with the names and behaviour of
# nixpkgs' `lib`, written for sysvm's tests so that flake.nix, lib/ and the
# templates evaluate offline under Nix 2.8. Only what sysvm's Nix files use
# is here; the module-system helpers return the same tagged values nixpkgs'
# do, so a test can read a module's config without running evalModules.
let
  self = {
    # Module system: values tagged with _type, as nixpkgs' lib/modules.nix.
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: self.mkOption {
      type = self.types.bool;
      default = false;
      description = "Whether to enable ${name}.";
    };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkOrder = priority: content: { _type = "order"; inherit priority content; };
    mkDefault = content: { _type = "override"; priority = 1000; inherit content; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };

    types = {
      bool = { name = "bool"; };
      package = { name = "package"; };
    };

    # Lists and strings.
    optionalString = cond: s: if cond then s else "";
    genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
    concatMapStringsSep = sep: f: list: builtins.concatStringsSep sep (map f list);
  };
in
self
