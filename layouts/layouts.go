// Package layouts embeds the Zellij layouts sysvm ships.
package layouts

import _ "embed"

// Default is the layout used when the project names none.
//
//go:embed default.kdl
var Default []byte
