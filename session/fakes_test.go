package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysvm/sysvm/lima"
	"github.com/sysvm/sysvm/limaconfig"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/sshx"
	"github.com/sysvm/sysvm/ui"
)

// end is how one session in the fake guest ends.
type end struct {
	code int
	err  error
	// wait runs the session until it is closed (the context ends).
	wait bool
	// after runs the session for this long.
	after time.Duration
}

// guest plays a VM's side: it finds zellij, stages the layout and runs
// sessions, each ending as scripted in ends.
type guest struct {
	mu       sync.Mutex
	ends     []end
	commands []string // every command started, in order
	sessions int      // sessions started
	// failStarts fails that many starts, whatever the command, with
	// startErr; downAfter, when > 0, fails every start once that many
	// sessions ran (the link is gone) with a lost link.
	failStarts int
	startErr   error
	downAfter  int
	// list is what zellij list-sessions prints.
	list string
	// typed is what the sessions read from the terminal.
	typed syncBuffer
}

// The guest's answers: its own zellij is new enough, the layout lands in
// the cache.
const (
	probeOut   = "machine x86_64\nown /usr/bin/zellij\nversion zellij 0.41.2\n"
	stagedPath = "/home/u/.cache/sysvm/layouts/x.kdl"
)

// fakeChannel is one command in the fake guest.
type fakeChannel struct {
	g         *guest
	end       end
	closed    chan struct{}
	closeOnce sync.Once
}

type discardCloser struct{ io.Writer }

func (discardCloser) Close() error { return nil }

func (ch *fakeChannel) Start(cmd string, _ *sshx.PTY, _ string, stdout, _ io.Writer) (io.WriteCloser, error) {
	g := ch.g
	g.mu.Lock()
	defer g.mu.Unlock()
	g.commands = append(g.commands, cmd)
	switch {
	case g.failStarts > 0:
		g.failStarts--
		return nil, g.startErr
	case g.downAfter > 0 && g.sessions >= g.downAfter:
		return nil, &sshx.LostError{Err: errors.New("read: connection reset by peer")}
	case strings.Contains(cmd, "uname -m"):
		fmt.Fprint(stdout, probeOut)
	case strings.Contains(cmd, "list-sessions") && !strings.Contains(cmd, "--create"):
		fmt.Fprint(stdout, g.list)
	case strings.Contains(cmd, "delete-session"):
	case strings.Contains(cmd, "--create"), !strings.Contains(cmd, "layouts"):
		// The attach, or the shell's command.
		if g.sessions >= len(g.ends) {
			return nil, fmt.Errorf("session %d was not expected", g.sessions+1)
		}
		ch.end = g.ends[g.sessions]
		g.sessions++
		return discardCloser{&g.typed}, nil
	default:
		fmt.Fprintln(stdout, stagedPath)
	}
	return discardCloser{io.Discard}, nil
}

func (ch *fakeChannel) WindowChange(int, int) error { return nil }

func (ch *fakeChannel) Wait() (int, error) {
	time.Sleep(ch.end.after)
	if ch.end.wait {
		<-ch.closed
		return -1, &sshx.LostError{Err: errors.New("session closed")}
	}
	return ch.end.code, ch.end.err
}

func (ch *fakeChannel) Close() error {
	ch.closeOnce.Do(func() { close(ch.closed) })
	return nil
}

// fakeLink opens channels into the fake guest.
type fakeLink struct{ g *guest }

func (l fakeLink) NewChannel() (sshx.Channel, error) {
	return &fakeChannel{g: l.g, closed: make(chan struct{})}, nil
}
func (fakeLink) ForwardAgent() bool { return false }
func (fakeLink) Close() error       { return nil }

// fakeDialer reaches the fake guest: openLink fails with openErr(n) for
// the nth call when that is not nil, quickLink with quickErr.
type fakeDialer struct {
	g        *guest
	openErr  func(n int) error
	quickErr error

	mu            sync.Mutex
	opens, quicks int
}

func (d *fakeDialer) openLink(context.Context, *lima.Instance) (link, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opens++
	if d.openErr != nil {
		if err := d.openErr(d.opens); err != nil {
			return nil, err
		}
	}
	return fakeLink{d.g}, nil
}

func (d *fakeDialer) quickLink(context.Context, string) (link, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.quicks++
	if d.quickErr != nil {
		return nil, d.quickErr
	}
	return fakeLink{d.g}, nil
}

// fakeVMs records what the session asked of the VM lifecycle; ensureErr,
// when set, answers the nth Ensure or Up.
type fakeVMs struct {
	mu        sync.Mutex
	calls     []string
	ensureErr func(n int) error
}

func (v *fakeVMs) Ensure(_ context.Context, p *project.Project, _ limaconfig.Settings, create bool) (*lima.Instance, error) {
	return v.record(fmt.Sprintf("ensure create=%t", create), p)
}

func (v *fakeVMs) Up(_ context.Context, p *project.Project, _ limaconfig.Settings) (*lima.Instance, error) {
	return v.record("up", p)
}

func (v *fakeVMs) record(call string, p *project.Project) (*lima.Instance, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, call)
	if v.ensureErr != nil {
		if err := v.ensureErr(len(v.calls)); err != nil {
			return nil, err
		}
	}
	return &lima.Instance{Name: p.VM, Status: lima.StatusRunning}, nil
}

func (v *fakeVMs) Inspect(_ context.Context, vm string) (*lima.Instance, error) {
	return &lima.Instance{Name: vm, Status: lima.StatusRunning}, nil
}

func (v *fakeVMs) called() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.calls...)
}

// fixture is a Manager on fakes, a project and a terminal that is not one.
type fixture struct {
	m    *Manager
	vms  *fakeVMs
	dial *fakeDialer
	g    *guest
	p    *project.Project
	t    *sshx.Terminal
	in   *os.File    // what the user types into the terminal
	err  *syncBuffer // the terminal's stderr
}

func newFixture(t *testing.T, ends ...end) *fixture {
	t.Helper()
	in, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); out.Close() })
	g := &guest{ends: ends}
	f := &fixture{vms: &fakeVMs{}, dial: &fakeDialer{g: g}, g: g, err: &syncBuffer{},
		p: &project.Project{Dir: t.TempDir(), Slug: "x", VM: "x-dev"}}
	f.t, f.in = sshx.NewTerminal(in, out, ui.New(nil, io.Discard, f.err)), w
	f.m = &Manager{VM: f.vms, dial: f.dial}
	return f
}

func (f *fixture) commands() []string {
	f.g.mu.Lock()
	defer f.g.mu.Unlock()
	return append([]string(nil), f.g.commands...)
}
