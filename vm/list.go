package vm

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sysvm/sysvm/display"
)

// The list of the projects sysvm knows, with their VMs' states.

// StateNotCreated is the state of a VM that does not exist yet.
const StateNotCreated = "NotCreated"

// ListEntry is one project sysvm knows, with its VM's state.
type ListEntry struct {
	Project string `json:"project"`
	VM      string `json:"vm"`
	State   string `json:"state"`
	Dir     string `json:"dir"`
}

// List returns every project sysvm knows on this host, sorted by name.
func (m *Manager) List(ctx context.Context) ([]ListEntry, error) {
	recs, err := m.State.Records()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return []ListEntry{}, nil
	}
	names := make([]string, len(recs))
	for i, r := range recs {
		names[i] = r.VM
	}
	insts, err := m.Lima.List(ctx, names...)
	if err != nil {
		return nil, err
	}
	states := map[string]string{}
	for _, in := range insts {
		states[in.Name] = in.Status
	}
	entries := []ListEntry{}
	for _, r := range recs {
		s, ok := states[r.VM]
		if !ok {
			s = StateNotCreated
		}
		entries = append(entries, ListEntry{Project: r.Name, VM: r.VM, State: s, Dir: r.Dir})
	}
	return entries, nil
}

// WriteList writes the entries as `sysvm list` shows them: a table under
// a header line.
func WriteList(w io.Writer, entries []ListEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECT\tVM\tSTATE\tDIR")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Project, e.VM, e.State, display.Safe(e.Dir))
	}
	return tw.Flush()
}
