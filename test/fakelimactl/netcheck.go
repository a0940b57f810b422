package main

import (
	"errors"
	"fmt"
	"os"
)

// reconcileNetworks models the network check `limactl start`, `stop` and
// `delete` run: networks.Reconcile inspects every instance directory in
// LIMA_HOME. Up to 2.1 it stops at the first one it cannot inspect, one
// without lima.yaml included, and the command fails with that error (Lima
// v1.2.2 pkg/networks/reconcile/reconcile.go:36-40, v2.1.4 :37-41); 2.2
// skips those with a warning (v2.2.0 pkg/networks/reconcile/reconcile.go:39-45).
// The fake has no vmnet networks, so the walk is all it does.
func reconcileNetworks() error {
	names, err := instanceNames()
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := inspect(n); err != nil {
			if errors.Is(err, os.ErrNotExist) && lima.atLeast(2, 2) {
				warnf("Skipping instance %s during network reconcile: %v", q(n), err)
				continue
			}
			return err
		}
	}
	return nil
}

// missingInstance is delete's answer for a name it cannot inspect because
// lima.yaml (or the whole directory) is missing. Up to 2.1 it warns and
// goes on (Lima v1.2.2 cmd/limactl/delete.go:43-46, v2.1.4 :43-45); 2.2
// refuses an existing directory without lima.yaml, "in case it is currently
// being cloned into", and the command exits 1 after the others (Lima
// v2.2.0 cmd/limactl/delete.go:46-51,74-90).
func missingInstance(name string) error {
	dir, err := instanceDir(name)
	if err != nil {
		return err
	}
	if _, statErr := os.Stat(dir); !lima.atLeast(2, 2) || errors.Is(statErr, os.ErrNotExist) {
		warnf("Ignoring non-existent instance %s", q(name))
		return nil
	} else if statErr != nil {
		return statErr
	}
	return fmt.Errorf("instance %#q directory %#q exists but its %#q could not be read; "+
		"it was NOT deleted, in case it is currently being cloned into. "+
		"If no `limactl` operation is using it, remove it manually", name, dir, fnLimaYAML)
}

// refusesRoot reports whether this run must refuse to run as root: Lima
// refuses root from 1.0 (v1.2.2 cmd/limactl/main.go:123, in every command's
// PersistentPreRunE, so not for --version), and 2.x before any command,
// --version included (v2.2.0 cmd/limactl/main.go:35-38; v2.0.0 panics
// instead, main.go:36). Deviation: the lab runs as root, so the fake
// refuses only with FAKELIMA_REFUSE_ROOT=1.
func refusesRoot(sub string) error {
	if os.Getenv("FAKELIMA_REFUSE_ROOT") != "1" || os.Geteuid() != 0 || sub == "generate-doc" || sub == "hostagent" {
		return nil
	}
	if lima.atLeast(2, 0) {
		return errRootBeforeCommand
	}
	if sub != "" {
		return errors.New("must not run as the root user")
	}
	return nil
}

// errRootBeforeCommand is 2.x's refusal, printed without logrus before any
// command runs.
var errRootBeforeCommand = errors.New("limactl: must not run as the root user")
