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
