// Package templates holds, embedded, the files sysvm generates from and
// writes: the base of every generated Lima config, and the project
// templates that `sysvm init` (package scaffold) and `nix flake init` write
// into a project. It only holds them: it reads no file, writes none and
// imports nothing of sysvm's.
package templates

import "embed"

// Lima holds lima/project-base.yaml.
//
//go:embed lima/project-base.yaml
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
