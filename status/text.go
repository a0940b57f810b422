package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sysvm/sysvm/display"
)

// WriteText writes the status as `sysvm status` shows it: one aligned
// line per fact, only the facts that apply.
func (st Status) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(key, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", key, display.Safe(fmt.Sprintf(format, args...)))
	}
	line("project", "%s", st.Project)
	line("dir", "%s", st.Dir)
	if len(st.NotAllowed) > 0 {
		line("allowed", "no: %s (read them, then: sysvm allow)", strings.Join(st.NotAllowed, ", "))
	}
	line("vm", "%s (%s)", st.VM, st.State)
	if st.SSHPort > 0 {
		line("ssh", "127.0.0.1:%d", st.SSHPort)
	}
	cfg := st.Config
	switch {
	case !st.ConfigExists:
		cfg += " (not written yet; `sysvm up` writes it)"
	case st.ConfigEdited && st.ConfigDiffers:
		cfg += " (edited: differs from `sysvm config`; sysvm uses your file)"
	case st.ConfigDiffers:
		cfg += " (settings changed; the next `sysvm up` regenerates it)"
	}
	line("config", "%s", cfg)
	if len(st.Changed) > 0 {
		line("changed", "%s (apply: sysvm up --recreate)", strings.Join(st.Changed, "; "))
	}
	line("session", "%s (%s)", st.Session, st.SessionState)
	if z := st.Zellij; z != nil {
		by := "the VM's own"
		if z.Installed {
			by = "installed by sysvm"
		}
		line("zellij", "%s %s (%s)", z.Version, z.Path, by)
	}
	switch st.HostKeys {
	case "console":
		line("host key", "checked against the fingerprints on the VM's console")
	case "first-use":
		line("host key", "trusted on first use: the VM printed no fingerprints on its console to check it against")
	}
	if st.Lima != "" {
		line("lima", "%s", st.Lima)
	}
	if bs := st.Broker; bs != nil && bs.Connected {
		line("broker", "connected since %s, %d client(s) attached", bs.Since, bs.Clients)
	}
	if i := st.Idle; i.Stopped != "" {
		line("stopped", "by idle stop at %s", i.Stopped)
	}
	switch i := st.Idle; {
	case i.Period == "":
	case i.Keep:
		line("idle stop", "after %s, but this run is kept (sysvm up --keep)", i.Period)
	default:
		line("idle stop", "after %s with no client and a quiet guest", i.Period)
	}
	return tw.Flush()
}
