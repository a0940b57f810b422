package main

import (
	"os"
	"path/filepath"
)

// recordFirstRunPane records in sessions/NAME/floating the floating pane
// Zellij 0.45 opens in a new session whose layout has no tabs
// (zellij-server/src/lib.rs@v0.45.0:1130-1148): the release notes once per
// version unless `show_release_notes false` (should_show_release_notes,
// :2372-2402), else a startup tip unless `show_startup_tips false`
// (should_show_startup_tip, :2404-2413); "" for none. The setup wizard,
// which 0.45 opens first when it had to write a default config.kdl
// (:999-1009), is not modelled: the stand-in reads no config.
func recordFirstRunPane(name string, spec *layoutSpec, opts map[string]string) {
	pane := ""
	if spec.NoTabs {
		seen := filepath.Join(stateDir(), "release-notes-seen-"+zellijVersion)
		switch {
		case opts["show-release-notes"] != "false" && !exists(seen):
			pane = "release-notes"
			_ = os.WriteFile(seen, nil, 0o600)
		case opts["show-startup-tips"] != "false":
			pane = "startup-tip"
		}
	}
	_ = os.WriteFile(filepath.Join(sessionDir(name), "floating"), []byte(pane+"\n"), 0o600)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
