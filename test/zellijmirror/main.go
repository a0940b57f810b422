// Command zellijmirror serves a binary as the pinned Zellij release on
// loopback, the way the tests do (zellij/release/releasetest), for the
// demo: sysvm then installs it into the VM by its ordinary download path.
//
//	zellijmirror BINARY
//
// It prints the base URL (for SYSVM_ZELLIJ_URL) on stdout and serves until
// SIGINT or SIGTERM.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sysvm/sysvm/zellij/release/releasetest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: zellijmirror BINARY")
		os.Exit(2)
	}
	bin, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "zellijmirror: %v\n", err)
		os.Exit(1)
	}
	srv := releasetest.NewServer(bin)
	defer srv.Close()
	fmt.Println(srv.URL)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
