package broker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sysvm/sysvm/sshx"
)

// IdleStop is the broker's idle stop. Every Check it asks which running VMs
// may be stopped (their project turned idle stop on, sysvm started them,
// nobody asked to keep them), and stops one that, for its whole period,
// had no client attached through the broker and a quiet guest.
//
// Quiet means the guest's CPUs did less than QuietCPU of one CPU's work
// between every two samples, read from the guest kernel's own counters
// (/proc/stat: user, nice, system, irq and softirq time). Any build,
// test run or container doing real work trips it, whatever Zellij session
// or service it runs in; a sample that cannot be taken counts as busy.
//
// The clock starts when this broker process first sees the VM: a broker
// that restarts watches a full period again before it stops anything.
type IdleStop struct {
	// Check is how often clients and the guest are sampled.
	Check time.Duration
	// Candidates lists the VMs idle stop may stop now.
	Candidates func(context.Context) ([]IdleVM, error)
	// Stop stops vm through sysvm's lifecycle, under the VM's lock; it
	// reports false when the VM no longer qualifies.
	Stop func(ctx context.Context, vm string) (bool, error)

	mu      sync.Mutex
	pending bool
	watched map[string]*idleWatch
}

// IdleVM is a running VM idle stop may stop.
type IdleVM struct {
	VM        string
	SSHConfig string
	Period    time.Duration
}

// QuietCPU is the guest CPU use, in CPUs, below which a guest is quiet.
const QuietCPU = 0.1

// guestStat prints the guest kernel's CPU counters. SYSVM_GUEST_PROC is
// for the lab's fake guest, whose /proc is the host's.
const guestStat = `cat "${SYSVM_GUEST_PROC:-/proc}/stat"`

// idleWatch is what idle stop knows of one VM.
type idleWatch struct {
	// quiet is when the VM's current quiet, unattached stretch began.
	quiet time.Time
	last  cpuTimes
}

// Pending reports whether a VM may yet be stopped by idle stop: the broker
// process stays up for it even with no client.
func (s *IdleStop) Pending() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

func (s *IdleStop) run(ctx context.Context, d *Daemon) {
	every := s.Check
	if every <= 0 {
		every = time.Minute
	}
	s.watched = map[string]*idleWatch{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.tick(ctx, d)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick samples every candidate once and stops those idle for their period.
func (s *IdleStop) tick(ctx context.Context, d *Daemon) {
	vms, err := s.Candidates(ctx)
	if err != nil {
		// Keep the broker up and the clocks as they are: nothing is
		// stopped on what could not be read.
		d.logf("idle stop: listing VMs failed", "err", err)
		return
	}
	now := time.Now()
	seen := map[string]bool{}
	for _, c := range vms {
		seen[c.VM] = true
		w := s.watched[c.VM]
		if w == nil {
			w = &idleWatch{quiet: now}
			s.watched[c.VM] = w
			d.logf("idle stop: watching", "vm", c.VM, "period", c.Period)
		}
		if clients, left := d.clientsOf(c.VM); clients > 0 {
			w.quiet = now
		} else if left.After(w.quiet) {
			w.quiet = left
		}
		cur, err := d.guestCPU(ctx, c)
		if err != nil {
			d.logf("idle stop: cannot read the guest's CPU time; counting it busy", "vm", c.VM, "err", err)
			w.quiet, w.last = now, cpuTimes{}
			continue
		}
		if use, ok := cur.since(w.last); !ok || use >= QuietCPU {
			w.quiet = now
		}
		w.last = cur
		if now.Sub(w.quiet) < c.Period {
			continue
		}
		if clients, _ := d.clientsOf(c.VM); clients > 0 {
			w.quiet = now
			continue
		}
		quiet := w.quiet
		delete(s.watched, c.VM)
		stopped, err := s.Stop(context.WithoutCancel(ctx), c.VM)
		switch {
		case err != nil:
			d.logf("idle stop: stopping failed", "vm", c.VM, "err", err)
		case stopped:
			d.logf("idle stop: stopped the VM", "vm", c.VM, "quietSince", quiet.Format(time.RFC3339), "period", c.Period)
		}
	}
	for vm := range s.watched {
		if !seen[vm] {
			delete(s.watched, vm)
		}
	}
	s.mu.Lock()
	s.pending = len(s.watched) > 0
	s.mu.Unlock()
}

// clientsOf returns how many clients are attached to vm through the broker
// and when the last one left.
func (d *Daemon) clientsOf(vm string) (int, time.Time) {
	d.mu.Lock()
	v := d.vms[vm]
	d.mu.Unlock()
	if v == nil {
		return 0, time.Time{}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.clients, v.idleSince
}

// guestCPU reads the guest's CPU counters over the broker's connection.
func (d *Daemon) guestCPU(ctx context.Context, c IdleVM) (cpuTimes, error) {
	_, ch, release, err := d.channel(ctx, c.VM, c.SSHConfig, "")
	if err != nil {
		return cpuTimes{}, err
	}
	defer release()
	defer ch.Close()
	var out bytes.Buffer
	if _, err := ch.Start(guestStat, nil, "", &out, io.Discard); err != nil {
		return cpuTimes{}, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, 10*time.Second, errors.New("no answer within 10s"))
	defer cancel()
	code, err := sshx.Wait(ctx, ch)
	if err == nil && code != 0 {
		err = fmt.Errorf("%s exited with status %d", guestStat, code)
	}
	if err != nil {
		return cpuTimes{}, err
	}
	return parseStat(out.Bytes())
}

// cpuTimes are the guest kernel's cumulative CPU counters, in ticks.
type cpuTimes struct {
	busy, total uint64
	cpus        int
}

// since is the CPU use, in CPUs, between prev and t; ok is false when prev
// is no sample or the counters went back (the guest rebooted).
func (t cpuTimes) since(prev cpuTimes) (float64, bool) {
	if prev.total == 0 || t.total <= prev.total || t.busy < prev.busy {
		return 0, false
	}
	return float64(t.busy-prev.busy) / float64(t.total-prev.total) * float64(max(t.cpus, 1)), true
}

// parseStat reads /proc/stat: the "cpu" line's user, nice, system, idle,
// iowait, irq, softirq and steal times (guest time is already within
// user and nice), and the number of "cpuN" lines.
func parseStat(b []byte) (cpuTimes, error) {
	var t cpuTimes
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			t.cpus++
			continue
		}
		if len(f) < 9 {
			return t, fmt.Errorf("short cpu line in /proc/stat: %q", sc.Text())
		}
		for i := 1; i <= 8; i++ {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return t, fmt.Errorf("bad cpu line in /proc/stat: %q", sc.Text())
			}
			t.total += n
			if i != 4 && i != 5 && i != 8 { // idle, iowait, steal
				t.busy += n
			}
		}
		found = true
	}
	if !found {
		return t, errors.New("no cpu line in /proc/stat")
	}
	return t, nil
}

// Start makes sure the broker process runs, so it watches VMs with idle
// stop that were brought up without an attach.
func (c *Client) Start() error {
	if err := c.ensure(); err != nil {
		return &UnavailableError{Err: err}
	}
	return nil
}
