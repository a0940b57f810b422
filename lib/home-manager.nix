# Home Manager module: installs sysvm, gives direnv the `use sysvm` library,
# and adds sysvm's prompt hook to the enabled shells, after direnv's.
#
#   imports = [ sysvm.homeManagerModules.default ];
#   programs.sysvm.enable = true;
#
# The library and the hooks are generated when the configuration is built
# (`sysvm direnvrc`, `sysvm hook SHELL`), so a new shell runs no extra process.
self:
{ config, lib, pkgs, options, ... }:
let
  cfg = config.programs.sysvm;
  system = pkgs.stdenv.hostPlatform.system;
  sysvm = "${cfg.package}/bin/sysvm";

  generated = name: args: pkgs.runCommand "sysvm-${name}" { } ''
    ${sysvm} ${args} > "$out"
  '';
  direnvrc = generated "direnvrc" "direnvrc";
  hook = shell: generated "hook-${shell}" "hook ${shell}";

  # Home Manager's own default for shell integrations, where it has one.
  shellDefault = shell: config.home.shell."enable${shell}Integration" or true;
  integration = shell: lib.mkOption {
    type = lib.types.bool;
    default = shellDefault shell;
    description = "Whether to add sysvm's prompt hook to ${shell}, so that cd into a project enters its VM.";
  };

  # direnv's hooks use mkAfter (1500); sysvm's must come after them.
  afterDirenv = lib.mkOrder 1600;
  # programs.zsh.initContent replaced initExtra in Home Manager 25.05.
  zshInit = text:
    if options.programs.zsh ? initContent
    then { programs.zsh.initContent = afterDirenv text; }
    else { programs.zsh.initExtra = afterDirenv text; };
in
{
  options.programs.sysvm = {
    enable = lib.mkEnableOption "sysvm, a Lima VM and a Zellij session for every project directory";
    package = lib.mkOption {
      type = lib.types.package;
      default = self.packages.${system}.default;
      defaultText = lib.literalExpression "sysvm.packages.\${system}.default";
      description = "The sysvm package to install.";
    };
    enableBashIntegration = integration "Bash";
    enableZshIntegration = integration "Zsh";
    enableFishIntegration = integration "Fish";
  };

  config = lib.mkIf cfg.enable (lib.mkMerge [
    {
      home.packages = [ cfg.package ];
      programs.direnv.enable = lib.mkDefault true;
      programs.direnv.stdlib = ''
        # sysvm: defines `use sysvm`
        source ${direnvrc}
      '';
    }
    (lib.mkIf cfg.enableBashIntegration {
      programs.bash.initExtra = afterDirenv "source ${hook "bash"}\n";
    })
    (lib.mkIf cfg.enableZshIntegration (zshInit "source ${hook "zsh"}\n"))
    (lib.mkIf cfg.enableFishIntegration {
      programs.fish.interactiveShellInit = afterDirenv "source ${hook "fish"}\n";
    })
  ]);
}
