package app

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/sysvm/sysvm/allow"
	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/vm"
)

// Overrides are the VM settings given on the command line (--cpus,
// --memory, ...), over VM_* and sysvm.yaml.
type Overrides = limaconfig.Overrides

// open finds the project of a command's argument (see project.Lookup:
// names are looked up in sysvm's registry, "" is the current directory's)
// and says its discovery notes.
func (a *App) open(arg string) (*project.Project, error) {
	p, err := project.Lookup(arg, a.projectOptions(), a.stateDir().Known)
	if err == nil {
		for _, n := range p.Notes {
			a.UI.Note("%s", n)
		}
	}
	return p, err
}

// openAllowed opens the project of arg and resolves its settings, once the
// user has allowed the project's files (see [App.allowed]).
func (a *App) openAllowed(arg string, o Overrides, ask bool) (*project.Project, limaconfig.Settings, error) {
	p, err := a.open(arg)
	if err == nil {
		a.adoptGenerated(p, o)
		err = a.allowed(p, ask)
	}
	if err != nil {
		return nil, limaconfig.Settings{}, err
	}
	s, err := a.settings(p, o)
	return p, s, err
}

// adoptGenerated records as sysvm's own a Lima config that is byte for
// byte what sysvm generates from the project's settings now (`task
// lima:init` writes one; a repository may commit one): it carries nothing
// sysvm.yaml and the environment do not already say, so it needs no
// allowing of its own, and it is regenerated when the settings change.
func (a *App) adoptGenerated(p *project.Project, o limaconfig.Overrides) {
	b := p.Snap.LimaConfig
	if b == nil || allow.IsGenerated(a.stateDir(), p.Dir, b) {
		return
	}
	s, err := a.settings(p, o)
	if err != nil {
		return
	}
	if gen, err := limaconfig.Generate(p, s, limaconfig.ThisHost()); err == nil && bytes.Equal(gen, b) {
		_ = allow.Generated(a.stateDir(), p.Dir, b)
	}
}

// openVM opens the project of arg and assembles the VM lifecycle: what
// stop and destroy run with.
func (a *App) openVM(arg string) (*project.Project, *vm.Manager, error) {
	p, err := a.open(arg)
	if err != nil {
		return nil, nil, err
	}
	v, err := a.vms()
	return p, v, err
}

// allowed is the allow gate: it refuses a project whose files the user
// has not allowed as they are now (see package allow). With ask set and a
// terminal on stdin, it says which files and asks rather than refuses.
func (a *App) allowed(p *project.Project, ask bool) error {
	err := allow.Check(a.stateDir(), p)
	var na *allow.NotAllowedError
	if errors.As(err, &na) && ask && a.UI.CanPrompt() {
		a.UI.Tell("%s", na.Error())
		if len(na.Risky) > 0 {
			// Said again right above the question, so that nothing the
			// files print can have pushed it out of sight.
			a.UI.Tell("they reach beyond the project: %s", strings.Join(na.Risky, ", "))
		}
		if a.UI.Confirm("Allow them as they are now?") {
			_, err = allow.Allow(a.stateDir(), p)
		}
	}
	return err
}

// confirm asks a yes/no question on the terminal unless yes already
// answered it; without a terminal it refuses and hints at the flag that
// answers yes. A "no" prints nothing changed.
func (a *App) confirm(yes bool, question, refusal, yesFlag string) (bool, error) {
	if yes {
		return true, nil
	}
	if !a.UI.CanPrompt() {
		return false, hint.Wrap(fmt.Errorf("refusing to %s without confirmation", refusal), yesFlag)
	}
	return a.UI.Confirm(question), nil
}
