package session

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/limaconfig"
)

func (f *fixture) shell(ctx context.Context, argv ...string) (int, error) {
	return f.m.Shell(ctx, f.p, limaconfig.Settings{}, f.t, argv, "xterm")
}

// The warm path: a VM that answers runs the command with no call to the
// VM lifecycle (no limactl) and no dial beyond the quick one.
func TestShellWarmPath(t *testing.T) {
	f := newFixture(t, end{code: 7})
	code, err := f.shell(context.Background(), "make", "test")
	if code != 7 || err != nil {
		t.Fatalf("Shell = %d, %v", code, err)
	}
	if calls := f.vms.called(); len(calls) > 0 {
		t.Errorf("the warm path asked the VM lifecycle: %q", calls)
	}
	if f.dial.quicks != 1 || f.dial.opens != 0 {
		t.Errorf("%d quick links and %d dials, want 1 and 0", f.dial.quicks, f.dial.opens)
	}
	if cmds := f.commands(); len(cmds) != 1 || !strings.Contains(cmds[0], "make test") || !strings.Contains(cmds[0], "SYSINIT_IN_VM=1") {
		t.Errorf("commands: %q", cmds)
	}
}

// A VM that does not answer (stopped, missing: no ssh.config of a running
// VM) is brought up, then dialed.
func TestShellBringsTheVMUp(t *testing.T) {
	f := newFixture(t, end{code: 7})
	f.dial.quickErr = errors.New("open ssh.config: no such file or directory")
	code, err := f.shell(context.Background(), "true")
	if code != 7 || err != nil {
		t.Fatalf("Shell = %d, %v", code, err)
	}
	if got, want := f.vms.called(), []string{"up"}; !reflect.DeepEqual(got, want) {
		t.Errorf("VM calls %q, want %q", got, want)
	}
	if f.dial.opens != 1 {
		t.Errorf("%d dials after the VM came up, want 1", f.dial.opens)
	}
}

// A warm link that refuses the command (it never started, so running it
// again cannot run it twice) falls back to bringing the VM up.
func TestShellWarmLinkRefused(t *testing.T) {
	f := newFixture(t, end{code: 0})
	f.g.failStarts, f.g.startErr = 1, errors.New("ssh: rejected: administratively prohibited")
	code, err := f.shell(context.Background())
	if code != 0 || err != nil {
		t.Fatalf("Shell = %d, %v", code, err)
	}
	if got, want := f.vms.called(), []string{"up"}; !reflect.DeepEqual(got, want) {
		t.Errorf("VM calls %q, want %q", got, want)
	}
	if n := len(f.commands()); n != 2 {
		t.Errorf("%d commands started, want the refused one and the one after the VM came up", n)
	}
}

// Ctrl-C during the command is an interruption, and the warm path does not
// then bring the VM up.
func TestShellInterrupted(t *testing.T) {
	f := newFixture(t, end{wait: true})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := f.shell(ctx)
	if !errors.Is(err, hint.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if calls := f.vms.called(); len(calls) > 0 {
		t.Errorf("VM calls after Ctrl-C: %q", calls)
	}
}
