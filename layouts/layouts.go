// Package layouts embeds the Zellij layouts sysvm ships. It never reads a
// project's own layout (package project does) nor copies one into a VM
// (package session does).
package layouts

import _ "embed"

// Default is the layout used when the project names none.
//
//go:embed default.kdl
var Default []byte
