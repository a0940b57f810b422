// Package templates embeds the files sysvm generates from: the Lima config
// base and reference configs, and the project templates written by
// `sysvm init` and `nix flake init`.
package templates

import "embed"

// Lima holds lima/project-base.yaml and the reference configs.
//
//go:embed lima/*.yaml
var Lima embed.FS

// ProjectBase is the path, inside Lima, of the base every generated config starts from.
const ProjectBase = "lima/project-base.yaml"

// Projects holds the project templates, one directory each, that
// `sysvm init` writes and the flake's `templates` output serves to
// `nix flake init`. all: keeps the dotfiles (.envrc, .gitignore).
//
//go:embed all:vm-dev all:vm-minimal all:vm-custom
var Projects embed.FS

// ProjectTemplates names the project templates, the default first.
var ProjectTemplates = []string{"vm-dev", "vm-minimal", "vm-custom"}
