//go:build !linux

package main

import (
	"fmt"
	"runtime"
)

// becomeSubreaper fails: only Linux has child subreapers, and the fake
// hostagent needs one to keep its guest's processes in its own tree.
func becomeSubreaper() error {
	return fmt.Errorf("the fake hostagent needs Linux (PR_SET_CHILD_SUBREAPER); this is %s: run the lab on Linux", runtime.GOOS)
}
