package main

import (
	"fmt"
	"os"
)

// The host terminal modes Zellij 0.45's client turns on when it attaches
// and off when it exits cleanly (zellij-client/src/lib.rs@v0.45.0).
const (
	// kittyPush enters the kitty keyboard protocol (lib.rs:58, written at
	// :970-973 unless support_kitty_keyboard_protocol is false).
	kittyPush = "\x1b[>1u"
	// kittyPop leaves it again (lib.rs:59, in the teardown at :1758-1772).
	kittyPop = "\x1b[<1u"
	// focusOn turns on focus reporting (lib.rs:54, written at :1177; new
	// in 0.45); focusOff (lib.rs:55) is in the teardown.
	focusOn  = "\x1b[?1004h"
	focusOff = "\x1b[?1004l"
	// themeOn subscribes to host theme notifications (lib.rs:64, written
	// at :979-981); themeOff (lib.rs:67) is in the teardown.
	themeOn  = "\x1b[?2031h"
	themeOff = "\x1b[?2031l"
)

// modesOn writes what 0.45's client writes to the host terminal when it
// starts (lib.rs:966-982 and :1176-1177).
func modesOn() {
	fmt.Fprint(os.Stdout, kittyPush+themeOn+focusOn)
}

// modesOff writes the teardown 0.45's client writes before its goodbye
// line on a clean exit (terminal_teardown_message, lib.rs:1758-1772,
// called at :1609). A client killed with its terminal (SIGHUP, SIGTERM)
// writes nothing the host could see: its terminal is gone.
func modesOff() {
	fmt.Fprint(os.Stdout, kittyPop+themeOff+focusOff)
}

// keyBindings are tmux commands binding Zellij 0.45's default detach key,
// Ctrl-o d: Ctrl-o enters session mode from every mode but locked
// (zellij-utils/assets/config/default.kdl@v0.45.0:196, :227) and d detaches
// there (default.kdl:123-126). Ctrl-o, like in Zellij, no longer reaches
// the pane. tmux's own prefix stays: Ctrl-b is Zellij's tmux mode, where d
// detaches too (default.kdl:173, :192).
func keyBindings() []string {
	return []string{
		";", "bind-key", "-n", "C-o", "switch-client", "-T", "zellij-session",
		";", "bind-key", "-T", "zellij-session", "d", "detach-client",
	}
}
