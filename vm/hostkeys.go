package vm

import (
	"context"
	"fmt"
	"time"

	"github.com/sysvm/sysvm/lima"
	"golang.org/x/crypto/ssh"
)

// Host keys: a guest that prints its host key fingerprints on its serial
// console at boot (cloud-init does) has its key checked against them at
// each connection, so its pin is kept across a start and replaced only by
// a key the console shows. A guest that prints none gets today's rule: the
// pin is dropped before a start by sysvm and the first key is trusted.

// consoleWait bounds the wait, after a start, for fingerprints the last
// boot printed (cloud-init prints them at the very end of the boot, just
// after Lima reports the VM running); firstConsoleWait is the same for a
// new VM, which may never print any.
const (
	consoleWait      = 30 * time.Second
	firstConsoleWait = 5 * time.Second
)

// printsHostKeys reports whether vm's console shows host key fingerprints.
func (m *Manager) printsHostKeys(vm string) bool {
	fps, err := m.instance(vm).ConsoleFingerprints()
	return err == nil && len(fps) > 0
}

// HostKeysFromConsole reports whether connections to vm check its host key
// against the fingerprints its console printed at boot (else the key is
// trusted on first use after each start by sysvm).
func (m *Manager) HostKeysFromConsole(vm string) bool { return m.printsHostKeys(vm) }

// beforeStart drops vm's pin unless its console printed fingerprints last
// boot, and says whether it did. Called under the VM lock.
func (m *Manager) beforeStart(vm string) (bool, error) {
	if m.printsHostKeys(vm) {
		return true, nil
	}
	m.sayFirstUse(vm, "printed none last boot")
	return false, m.State.UnpinHostKey(vm)
}

// sayFirstUse says that connections to vm fall back to trusting the first
// host key they see, and why: that is never silent.
func (m *Manager) sayFirstUse(vm, why string) {
	if m.instance(vm).ConsoleTruncated() {
		why += fmt.Sprintf(" in the last %d KiB of its console log, all sysvm reads", lima.ConsoleTailKiB)
	}
	m.Progress.Say("%s %s: sysvm trusts the host key of the first connection", vm, why)
	if m.Log != nil {
		m.Log.Debug("host key trusted on first use", "vm", vm, "why", why)
	}
}

// awaitHostKeys waits, after a start, until the console of the new boot
// shows fingerprints, so that the first connection checks against them
// rather than trusting the key. Lima truncates the console log at each
// start, so what it shows then is the current boot's. Called under the VM
// lock; a guest that prints none costs at most wait, said on the terminal
// once it passes a second, and the fallback to first use is said at the
// end.
func (m *Manager) awaitHostKeys(ctx context.Context, vm string, wait time.Duration) {
	start := time.Now()
	deadline, said := start.Add(wait), false
	for !m.printsHostKeys(vm) && time.Now().Before(deadline) {
		if !said && time.Since(start) >= time.Second {
			m.Progress.Say("waiting up to %s for %s to print its SSH host key fingerprints on its console", wait-time.Second, vm)
			said = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	if ctx.Err() == nil && !m.printsHostKeys(vm) {
		m.sayFirstUse(vm, "printed none")
	}
}

// ensurePin is the one place pins are made (see sshx.Options.Pin): under
// the VM's lock, after sysvm started the VM, or when the running VM has no
// pin or a pin its console shows is from an earlier boot, it has
// PinHostKey dial the VM with pinning allowed. Every other dial only
// verifies.
func (m *Manager) ensurePin(ctx context.Context, inst *lima.Instance, started bool) error {
	if m.PinHostKey == nil || !started && m.pinCurrent(inst) {
		return nil
	}
	return m.PinHostKey(ctx, inst)
}

// pinCurrent reports whether the VM has a pin that its console, when it
// shows fingerprints, does not contradict.
func (m *Manager) pinCurrent(inst *lima.Instance) bool {
	key, ok, err := m.State.HostKey(inst.Name)
	if err != nil || !ok {
		return false
	}
	fps, err := inst.ConsoleFingerprints()
	if err != nil || len(fps) == 0 {
		return true
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(key))
	return err == nil && fps[ssh.FingerprintSHA256(pk)]
}
