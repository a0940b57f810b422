// Command sysvm gives every project directory its own Lima VM and its own
// Zellij session inside it.
package main

import (
	"os"

	"github.com/sysvm/sysvm/cmd/sysvm/cli"
)

func main() { os.Exit(cli.Main()) }
