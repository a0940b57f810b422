package session

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/sshx"
)

func (f *fixture) attach(ctx context.Context, o AttachOptions) (int, error) {
	return f.m.Attach(ctx, f.p, limaconfig.Settings{}, f.t, o)
}

// An attach brings the VM up (creating it if need be), finds zellij,
// stages the layout and attaches to the project's session with it.
func TestAttach(t *testing.T) {
	f := newFixture(t, end{code: 0})
	code, err := f.attach(context.Background(), AttachOptions{})
	if code != 0 || err != nil {
		t.Fatalf("Attach = %d, %v", code, err)
	}
	if got, want := f.vms.called(), []string{"ensure create=true"}; !reflect.DeepEqual(got, want) {
		t.Errorf("VM calls %q, want %q", got, want)
	}
	cmds := f.commands()
	if len(cmds) != 3 || !strings.Contains(cmds[0], "uname -m") || !strings.Contains(cmds[1], "layouts") {
		t.Fatalf("commands: %q, want the probe, the layout and the attach", cmds)
	}
	if want := "/usr/bin/zellij --layout " + stagedPath + " attach --create x"; !strings.Contains(cmds[2], want) {
		t.Errorf("attach command %q lacks %q", cmds[2], want)
	}
	if s := f.err.Bytes(); len(s) > 0 {
		t.Errorf("stderr: %q", s)
	}
}

// A lost link reconnects: the VM is ensured again (never recreated), the
// user is told, and the session's exit status is the attach's.
func TestAttachReconnectsAfterLoss(t *testing.T) {
	f := newFixture(t, end{err: &sshx.LostError{Err: errors.New("EOF")}}, end{code: 3})
	code, err := f.attach(context.Background(), AttachOptions{Reconnect: time.Minute})
	if code != 3 || err != nil {
		t.Fatalf("Attach = %d, %v", code, err)
	}
	if got, want := f.vms.called(), []string{"ensure create=true", "ensure create=false"}; !reflect.DeepEqual(got, want) {
		t.Errorf("VM calls %q, want %q", got, want)
	}
	if f.g.sessions != 2 {
		t.Errorf("%d sessions, want 2", f.g.sessions)
	}
	if got, want := string(f.err.Bytes()), "sysvm: connection to x-dev lost; reconnecting (attempt 1)…\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// Each drop of a session that got going opens a window of its own: a
// session that ran for longer than the window survives its next drop.
func TestAttachSurvivesRepeatedDrops(t *testing.T) {
	lost := &sshx.LostError{Err: errors.New("EOF")}
	f := newFixture(t, end{err: lost}, end{after: 400 * time.Millisecond, err: lost}, end{code: 0})
	if _, err := f.attach(context.Background(), AttachOptions{Reconnect: 300 * time.Millisecond}); err != nil {
		t.Fatalf("Attach = %v, want a third session", err)
	}
	if f.g.sessions != 3 {
		t.Errorf("%d sessions, want 3", f.g.sessions)
	}
}

// Keys typed while the link was down do not reach the next session: the
// user could not see where they would land.
func TestAttachDropsKeysTypedWhileDown(t *testing.T) {
	f := newFixture(t, end{err: &sshx.LostError{Err: errors.New("EOF")}}, end{after: 200 * time.Millisecond})
	f.vms.ensureErr = func(n int) error {
		if n == 2 { // reconnecting: the user types blind
			f.in.WriteString("rm -rf build\r")
			time.Sleep(100 * time.Millisecond)
		}
		return nil
	}
	if _, err := f.attach(context.Background(), AttachOptions{Reconnect: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := f.g.typed.Bytes(); len(got) > 0 {
		t.Errorf("the new session got keys typed while the link was down: %q", got)
	}
}

// --fresh deletes a dead session before the first attach only: a
// reconnect must not delete the session it was attached to.
func TestAttachFresh(t *testing.T) {
	f := newFixture(t, end{err: &sshx.LostError{Err: errors.New("EOF")}}, end{})
	f.g.list = "x [Created 2h ago] (EXITED - attach to resurrect)\n"
	if _, err := f.attach(context.Background(), AttachOptions{Fresh: true, Reconnect: time.Minute}); err != nil {
		t.Fatal(err)
	}
	deletes := 0
	for _, c := range f.commands() {
		if strings.Contains(c, "delete-session x") {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("%d deletes of the dead session, want 1: %q", deletes, f.commands())
	}
}

// A link that stays down for longer than the window gives up, as
// unreachable, with a hint.
func TestAttachGivesUpAfterTheWindow(t *testing.T) {
	f := newFixture(t, end{err: &sshx.LostError{Err: errors.New("EOF")}})
	f.g.downAfter = 1
	const window = 300 * time.Millisecond
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := f.attach(ctx, AttachOptions{Reconnect: window})
	if !errors.Is(err, hint.ErrUnreachable) || hint.KindOf(err) != hint.KindUnreachable {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), "gave up reconnecting to x-dev after 300ms") || !slices.Contains(hint.Of(err), "sysvm status") {
		t.Errorf("err = %v, hints %q", err, hint.Of(err))
	}
	if d := time.Since(start); d < window {
		t.Errorf("gave up after %s, before the window of %s", d, window)
	}
	if n := len(f.vms.called()); n < 3 {
		t.Errorf("%d tries, want the first and at least two retries", n)
	}
	if !strings.Contains(string(f.err.Bytes()), "(attempt 2)") {
		t.Errorf("stderr %q tells of no second retry", f.err.Bytes())
	}
}

// A VM whose SSH port stops answering is retried until the window ends,
// then reported unreachable with what to check.
func TestAttachGivesUpOnAnUnreachableVM(t *testing.T) {
	f := newFixture(t, end{err: &sshx.LostError{Err: errors.New("EOF")}})
	f.dial.openErr = func(n int) error {
		if n == 1 {
			return nil
		}
		return &sshx.UnreachableError{Addr: "127.0.0.1:60022", Err: errors.New("connection refused")}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := f.attach(ctx, AttachOptions{Reconnect: 300 * time.Millisecond})
	if hint.KindOf(err) != hint.KindUnreachable || !slices.Contains(hint.Of(err), "limactl list x-dev") {
		t.Fatalf("err = %v (hints %q), want unreachable with a hint", err, hint.Of(err))
	}
	if f.dial.opens < 3 {
		t.Errorf("%d dials, want the first and retries until the window ends", f.dial.opens)
	}
}

// A VM destroyed while the link was down is not created again.
func TestAttachDoesNotRecreateADestroyedVM(t *testing.T) {
	f := newFixture(t, end{err: &sshx.LostError{Err: errors.New("EOF")}})
	gone := hint.Wrap(fmt.Errorf("%w: x-dev no longer exists (was it destroyed?)", hint.ErrGone), "sysvm attach  (creates it again)")
	f.vms.ensureErr = func(n int) error {
		if n > 1 {
			return gone
		}
		return nil
	}
	if _, err := f.attach(context.Background(), AttachOptions{Reconnect: time.Minute}); err != gone {
		t.Fatalf("err = %v, want %v", err, gone)
	}
	if got, want := f.vms.called(), []string{"ensure create=true", "ensure create=false"}; !reflect.DeepEqual(got, want) {
		t.Errorf("VM calls %q, want %q", got, want)
	}
}

// Ctrl-C during the session ends the attach as interrupted, without a
// reconnect.
func TestAttachInterrupted(t *testing.T) {
	f := newFixture(t, end{wait: true})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := f.attach(ctx, AttachOptions{})
	if !errors.Is(err, hint.ErrInterrupted) || hint.KindOf(err) != hint.KindInterrupted {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if n := len(f.vms.called()); n != 1 {
		t.Errorf("%d VM calls, want 1: no reconnect after Ctrl-C", n)
	}
	if s := f.err.Bytes(); len(s) > 0 {
		t.Errorf("stderr: %q", s)
	}
}

// Ctrl-C while the VM boots keeps the VM layer's words: they say what
// keeps running.
func TestAttachInterruptedWhileTheVMStarts(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	booting := hint.Wrap(fmt.Errorf("%w: stopped waiting for x-dev, which keeps booting in the background", hint.ErrInterrupted), "sysvm status")
	f.vms.ensureErr = func(int) error {
		cancel()
		return booting
	}
	if _, err := f.attach(ctx, AttachOptions{}); err != booting {
		t.Fatalf("err = %v, want %v", err, booting)
	}
	if cmds := f.commands(); len(cmds) > 0 {
		t.Errorf("commands ran in the VM: %q", cmds)
	}
}

func TestGuard(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		force bool
		want  string // "" when attach may go ahead
	}{
		{"host", nil, false, ""},
		{"inside a VM", map[string]string{"SYSINIT_IN_VM": "1"}, false, "already inside a sysvm VM"},
		{"inside a VM, forced", map[string]string{"SYSINIT_IN_VM": "1"}, true, "already inside a sysvm VM"},
		{"local Zellij", map[string]string{"ZELLIJ": "0"}, false, "inside a local Zellij session"},
		{"local Zellij, forced", map[string]string{"ZELLIJ": "0"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Guard(func(k string) string { return tt.env[k] }, tt.force)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Guard = %v", err)
				}
				return
			}
			if !errors.Is(err, hint.ErrNested) || !strings.Contains(err.Error(), tt.want) || len(hint.Of(err)) == 0 {
				t.Fatalf("Guard = %v (hints %q), want %q with a hint", err, hint.Of(err), tt.want)
			}
			if hint.KindOf(err) != hint.KindFailure {
				t.Errorf("kind %d, want a plain failure (exit 1)", hint.KindOf(err))
			}
		})
	}
}
