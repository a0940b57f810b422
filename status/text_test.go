package status

import (
	"strings"
	"testing"
)

// The text shows only the facts that apply, one aligned line each, with
// no escape sequence from a name reaching the terminal.
func TestWriteText(t *testing.T) {
	st := Status{Project: "x\x1b[2J", Dir: "/p/x", VM: "x-dev", State: "Running", SSHPort: 60022,
		Config: "/p/x/.lima/config.yaml", ConfigExists: true, ConfigEdited: true, ConfigDiffers: true,
		Changed: []string{"cpus 2 → 4"}, Session: "x", SessionState: "running", HostKeys: "first-use",
		Idle: IdleStatus{Period: "30m0s", Keep: true}, NotAllowed: []string{"sysvm.yaml"}}
	var b strings.Builder
	if err := st.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `project    x\x1b[2J
dir        /p/x
allowed    no: sysvm.yaml (read them, then: sysvm allow)
vm         x-dev (Running)
ssh        127.0.0.1:60022
config     /p/x/.lima/config.yaml (edited: differs from ` + "`sysvm config`" + `; sysvm uses your file)
changed    cpus 2 → 4 (apply: sysvm up --recreate)
session    x (running)
host key   trusted on first use: the VM printed no fingerprints on its console to check it against
idle stop  after 30m0s, but this run is kept (sysvm up --keep)
`
	if got := b.String(); got != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	if err := (Status{Project: "x", VM: "x-dev", State: "NotCreated", Config: "c", Session: "x", SessionState: "unknown"}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.Contains(got, "c (not written yet; `sysvm up` writes it)\n") || strings.Contains(got, "ssh") || strings.Contains(got, "idle") {
		t.Errorf("WriteText of a VM not created:\n%s", got)
	}
}
