package vm

import (
	"fmt"
	"path/filepath"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
)

// One directory, one VM: a VM belongs to the directory sysvm's record of
// it names, or, when sysvm has no record, to the directories its Lima
// config mounts. Nothing acts on a VM that is another directory's.

// Owner returns the directory VM vm belongs to, seen from the project
// directory dir: dir when it is dir's, another directory when it is that
// one's, "" when it is nobody's. A registered directory that no longer
// exists still owns its VM. It fills [project.Options].Owner.
func Owner(sd state.Dir, limaHome, vm, dir string) string {
	if filepath.IsAbs(string(sd)) {
		if r, ok := sd.Record(vm); ok && r.Dir != "" {
			return r.Dir
		}
	}
	if !filepath.IsAbs(limaHome) {
		return ""
	}
	mounts, err := lima.InstanceAt(limaHome, vm).Mounts()
	if err != nil || len(mounts) == 0 {
		return ""
	}
	for _, m := range mounts {
		if m == dir {
			return dir
		}
	}
	return mounts[0]
}

// checkOwner refuses to act on the project's VM (what: "stop", "delete",
// …; cmd: the sysvm command that does it) when it is another directory's.
// Under the VM's lock its answer is final.
func (m *Manager) checkOwner(p *project.Project, what, cmd string) error {
	o := Owner(m.State, m.LimaHome, p.VM, p.Dir)
	if o == "" || o == p.Dir {
		return nil
	}
	return hint.Wrap(fmt.Errorf("refusing to %s VM %s: it belongs to %s, not to %s", what, p.VM, o, p.Dir),
		fmt.Sprintf("cd %s && sysvm %s  (from the directory it belongs to)", o, cmd),
		"or give this project a name of its own: name: in "+project.FileName+", or --name")
}
