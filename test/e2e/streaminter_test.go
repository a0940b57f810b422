package e2e

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/lab"
)

// BenchmarkStreamInterleaved streams 100 MiB out of the VM through
// `sysvm shell` (the broker running) and through OpenSSH with a
// ControlMaster alternately, b.N rounds, without a PTY ("pipe") and with
// one on both ends ("pty"), so that both see the same machine state. It
// reports each one's median MB/s and the median of the per-round ratios
// sysvm/OpenSSH with their 10th and 90th percentiles.
//
// It also reports the CPU time the relaying process spent per run: the
// broker for sysvm, the ControlMaster for OpenSSH; on a busy machine that
// varies much less than the throughput.
//
// SYSVM_BENCH_VARIANT="K=V ..." adds a second lab whose environment (and
// so its broker's) carries those variables; it runs in the same rounds
// and is reported against the first lab's sysvm ("variant/sysvm"): a
// setting compared with its baseline on a noisy machine.
func BenchmarkStreamInterleaved(b *testing.B) {
	const size = 100 << 20
	src := "head -c " + strconv.Itoa(size) + " /dev/zero"
	type lane struct {
		name string
		mk   func(pty bool) *exec.Cmd
		// relay is the process that decrypts the stream: the broker, or
		// OpenSSH's ControlMaster.
		relay func() int
	}
	lab := func(name string, vars []string) (*env, string) {
		e := newEnvTB(b)
		e.Setenv(vars...)
		dir := e.project(name, "")
		if r := e.run(dir, "shell", "--", "true"); r.ExitCode != 0 {
			b.Fatalf("warm-up: %s", r)
		}
		return e, dir
	}
	e, dir := lab("inter", nil)
	lanes := []lane{
		{"sysvm", func(bool) *exec.Cmd { return e.cmd(dir, "shell", "--", "sh", "-c", src) }, e.BrokerPID},
		{"openssh", func(pty bool) *exec.Cmd {
			if pty {
				return e.Command("ssh", "-tt", "-F", e.SSHConfig("inter-dev"), "lima-inter-dev", src)
			}
			return e.Command("ssh", "-F", e.SSHConfig("inter-dev"), "lima-inter-dev", src)
		}, func() int { return masterPID(b, e, "inter-dev") }},
	}
	if v := strings.Fields(os.Getenv("SYSVM_BENCH_VARIANT")); len(v) > 0 {
		ev, dirv := lab("variant", v)
		lanes = append(lanes, lane{"variant", func(bool) *exec.Cmd { return ev.cmd(dirv, "shell", "--", "sh", "-c", src) }, ev.BrokerPID})
	}
	for _, mode := range []string{"pipe", "pty"} {
		b.Run(mode, func(b *testing.B) {
			once := func(c *exec.Cmd) time.Duration {
				t0 := time.Now()
				if mode == "pty" {
					ptyStreamOnce(b, size, c)
				} else {
					var stderr strings.Builder
					cw := &countWriter{want: size}
					c.Stdout, c.Stderr = cw, &stderr
					if err := c.Run(); err != nil || cw.n != size {
						b.Fatalf("%v: %d bytes, %v\n%s", c.Args, cw.n, err, stderr.String())
					}
				}
				return time.Since(t0)
			}
			for _, l := range lanes {
				once(l.mk(mode == "pty")) // the ControlMaster starts here
			}
			times := make([][]time.Duration, len(lanes))
			cpu := make([][]time.Duration, len(lanes))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// Rotate the order, so no lane always runs right after another.
				for k := range lanes {
					j := (i + k) % len(lanes)
					pid := lanes[j].relay()
					c0 := cpuTime(b, pid)
					times[j] = append(times[j], once(lanes[j].mk(mode == "pty")))
					cpu[j] = append(cpu[j], cpuTime(b, pid)-c0)
				}
			}
			b.StopTimer()
			for j, l := range lanes {
				b.ReportMetric(float64(size)/1e6/median(times[j]).Seconds(), l.name+"-MB/s")
				b.ReportMetric(ms(median(cpu[j])), l.name+"-relay-cpu-ms")
			}
			ratio := func(num, den int, name string) {
				r := make([]float64, len(times[num]))
				for i := range r {
					r[i] = float64(times[den][i]) / float64(times[num][i]) // throughput ratio
				}
				slices.Sort(r)
				b.ReportMetric(r[len(r)/2], name)
				b.ReportMetric(r[len(r)/10], name+"-p10")
				b.ReportMetric(r[len(r)*9/10], name+"-p90")
			}
			ratio(0, 1, "sysvm/openssh")
			if len(lanes) > 2 {
				ratio(2, 1, "variant/openssh")
				ratio(2, 0, "variant/sysvm")
			}
		})
	}
}

// masterPID is the pid of the lab VM's OpenSSH ControlMaster.
func masterPID(b testing.TB, e *env, vm string) int {
	out, _ := e.Command("ssh", "-F", e.SSHConfig(vm), "-O", "check", lab.Hostname(vm)).CombinedOutput()
	_, rest, ok := strings.Cut(string(out), "(pid=")
	pid, err := strconv.Atoi(strings.TrimRight(strings.TrimSpace(rest), ")"))
	if !ok || err != nil {
		b.Fatalf("no ControlMaster for %s: %s", vm, out)
	}
	return pid
}

// cpuTime is the user and system CPU time process pid has used so far.
func cpuTime(b testing.TB, pid int) time.Duration {
	s, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name (which may hold spaces): utime
	// and stime are the 12th and 13th, in clock ticks of 1/100 s.
	f := strings.Fields(string(s[strings.LastIndexByte(string(s), ')')+1:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}
