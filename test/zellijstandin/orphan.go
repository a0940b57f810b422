package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Two first attaches at once, as in Zellij 0.45: both clients find no
// session (session_exists, src/commands.rs:752-790), both spawn a server
// (zellij-client/src/lib.rs:1148, :462-489), which takes a moment to come
// up, and the second server unlinks the first's socket before binding its
// own (zellij-server/src/lib.rs:930). The first server runs on with its
// client and panes, orphaned: no socket, so `ls`, `attach` and
// `kill-session` never see it again.

// startDelay is how long a new session's server takes to come up:
// $ZELLIJ_STANDIN_START_DELAY, else the file start-delay in the state
// directory (for tests that cannot set the guest's environment), as a Go
// duration; default 300ms.
func startDelay() time.Duration {
	v := os.Getenv("ZELLIJ_STANDIN_START_DELAY")
	if v == "" {
		b, _ := os.ReadFile(filepath.Join(stateDir(), "start-delay"))
		v = strings.TrimSpace(string(b))
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d
	}
	return 300 * time.Millisecond
}

// startingServer is the moment between the client's check and the new
// server's socket, in which another first attach also finds no session.
func startingServer() { time.Sleep(startDelay()) }

// ownSession is the tmux id of the session this process created (its
// "server"), which its client attaches to even once orphaned.
var ownSession string

// orphanPrefix starts the tmux name of an orphaned session; '~' never
// occurs in an encoded name (tmuxName), so no session is called so.
const orphanPrefix = "~orphan-"

// orphan hides the live session tn (a tmux name) that a server started in
// the same moment created, as the socket unlinked at lib.rs:930 hides it:
// it keeps running under a name `ls` skips.
func orphan(tn string) error {
	_, err := tmuxOutput("rename-session", "-t", "="+tn, orphanPrefix+strconv.Itoa(os.Getpid())+"-"+tn)
	return err
}
