package app

import (
	"fmt"
	"path/filepath"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/shellhook"
)

// Hook is the prompt hook of the shell args names, for this sysvm.
func (a *App) Hook(args []string) (string, error) {
	if len(args) != 1 {
		return "", hint.Usage(fmt.Errorf("hook needs one shell: %v", shellhook.Names()))
	}
	sh, err := shellhook.Lookup(args[0])
	if err != nil {
		return "", hint.Usage(err)
	}
	exe, err := self()
	if err != nil {
		return "", err
	}
	return sh.Hook(exe)
}

// Direnvrc is direnv's `use sysvm` library for this sysvm; with install
// it is written to direnv's lib directory instead, and "" returned.
func (a *App) Direnvrc(install bool) (string, error) {
	exe, err := self()
	if err != nil {
		return "", err
	}
	text := shellhook.Direnvrc(exe)
	if !install {
		return text, nil
	}
	path, err := shellhook.InstallDirenvrc(a.Getenv("XDG_CONFIG_HOME"), text)
	if err == nil {
		a.UI.Tell("wrote %s; `use sysvm` now works in any .envrc", path)
	}
	return "", err
}

// DirenvExports is what `use sysvm` exports for the project of dir, with
// the directory of the vm-* helpers made ready.
func (a *App) DirenvExports(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	p, err := project.Lookup(abs, a.projectOptions(), a.stateDir().Known)
	if err != nil {
		return "", err
	}
	exe, err := self()
	if err != nil {
		return "", err
	}
	helpers, err := a.stateDir().MkdirAll("bin")
	if err != nil {
		return "", err
	}
	if err := shellhook.LinkHelpers(helpers, exe); err != nil {
		return "", err
	}
	return shellhook.Exports(map[string]string{
		"SYSVM_PROJECT_DIR":  p.Dir,
		"SYSVM_PROJECT":      p.Slug,
		"SYSVM_VM":           p.VM,
		"SYSVM_HELPERS":      helpers,
		"SYSINIT_VM_ENABLED": "1",
		"SYSINIT_VM_NAME":    p.VM,
	}), nil
}
