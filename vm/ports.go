package vm

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/project"
)

// Host ports: a port another sysvm project's running VM forwards is
// refused before boot, one some other program holds is warned about.

// checkPorts refuses to boot when another sysvm project's running VM already
// forwards one of our host ports (Lima would let the first VM win silently),
// and warns when some other program listens there.
func (m *Manager) checkPorts(ctx context.Context, p *project.Project, ports []int) error {
	if len(ports) == 0 {
		return nil
	}
	recs, err := m.State.Records()
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.VM == p.VM {
			continue
		}
		var clash []string
		for _, a := range r.Ports {
			for _, mine := range ports {
				if a == mine {
					clash = append(clash, fmt.Sprint(a))
				}
			}
		}
		if len(clash) == 0 {
			continue
		}
		inst, err := m.Inspect(ctx, r.VM)
		if err != nil || inst == nil || inst.Status != lima.StatusRunning {
			continue
		}
		return hint.Wrap(fmt.Errorf("port %s is already forwarded by the running VM %s (project %s in %s)",
			strings.Join(clash, ", "), r.VM, r.Name, r.Dir),
			fmt.Sprintf("sysvm stop %s", r.Name), "or change `ports:` in sysvm.yaml (or VM_PORTS)")
	}
	for _, port := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			m.Progress.Say("warning: host port %d is already in use; the VM's forward of it will not work", port)
			continue
		}
		l.Close()
	}
	return nil
}
