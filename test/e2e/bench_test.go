package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchEnv is a lab with one running VM, warmed up.
func benchEnv(b testing.TB, vms ...string) (*env, []string) {
	l := newEnvTB(b)
	var dirs []string
	for _, vm := range vms {
		dir := l.project(vm, "")
		if r := l.run(dir, "shell", "--", "true"); r.ExitCode != 0 {
			b.Fatalf("warm-up: %s", r)
		}
		dirs = append(dirs, dir)
	}
	return l, dirs
}

func runN(b *testing.B, mk func() *exec.Cmd) {
	b.Helper()
	// One unmeasured run (the ControlMaster of ssh -F starts here).
	if out, err := mk().CombinedOutput(); err != nil {
		b.Fatalf("%v: %v\n%s", mk().Args, err, out)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := mk().CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", mk().Args, err, out)
		}
	}
}

// BenchmarkWarmShell compares warm `sysvm shell -- true` (through the
// broker, and dialing directly) with OpenSSH reusing Lima-style
// ControlMaster connections (`ssh -F ssh.config HOST true`) and with
// `limactl shell`, all against the same running lab VM.
func BenchmarkWarmShell(b *testing.B) {
	e, dirs := benchEnv(b, "bench")
	dir := dirs[0]
	cfg := e.SSHConfig("bench-dev")
	b.Run("sysvm-broker", func(b *testing.B) {
		runN(b, func() *exec.Cmd { return e.cmd(dir, "shell", "--", "true") })
	})
	b.Run("sysvm-direct", func(b *testing.B) {
		runN(b, func() *exec.Cmd {
			c := e.cmd(dir, "shell", "--", "true")
			c.Env = append(c.Env, "SYSVM_BROKER=0")
			return c
		})
	})
	b.Run("openssh-controlmaster", func(b *testing.B) {
		runN(b, func() *exec.Cmd { return e.Command("ssh", "-F", cfg, "lima-bench-dev", "true") })
	})
	b.Run("limactl-shell", func(b *testing.B) {
		runN(b, func() *exec.Cmd { return e.Command(e.Bin.Limactl, "shell", "--workdir", "/", "bench-dev", "true") })
	})
}

// BenchmarkStream100MiB streams 100 MiB out of the VM, without a PTY,
// through sysvm's broker channel (the broker writing into sysvm's stdout
// itself, and relaying it in frames: SYSVM_BROKER_FDS=0), through a
// direct dial, and through OpenSSH's multiplexed connection.
func BenchmarkStream100MiB(b *testing.B) {
	e, dirs := benchEnv(b, "stream")
	dir := dirs[0]
	const size = 100 << 20
	src := "head -c " + strconv.Itoa(size) + " /dev/zero"
	check := func(c *exec.Cmd) *exec.Cmd {
		c.Stdout = &countWriter{want: size, b: b}
		return c
	}
	b.Run("sysvm-broker", func(b *testing.B) {
		b.SetBytes(size)
		runStream(b, func() *exec.Cmd { return check(e.cmd(dir, "shell", "--", "sh", "-c", src)) })
	})
	for name, kv := range map[string]string{"sysvm-broker-relay": "SYSVM_BROKER_FDS=0", "sysvm-direct": "SYSVM_BROKER=0"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			runStream(b, func() *exec.Cmd {
				c := check(e.cmd(dir, "shell", "--", "sh", "-c", src))
				c.Env = append(c.Env, kv)
				return c
			})
		})
	}
	b.Run("openssh-controlmaster", func(b *testing.B) {
		b.SetBytes(size)
		runStream(b, func() *exec.Cmd {
			return check(e.Command("ssh", "-F", e.SSHConfig("stream-dev"), "lima-stream-dev", src))
		})
	})
}

func runStream(b *testing.B, mk func() *exec.Cmd) {
	if err := mk().Run(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := mk()
		if err := c.Run(); err != nil {
			b.Fatal(err)
		}
		if cw := c.Stdout.(*countWriter); cw.n != cw.want {
			b.Fatalf("received %d bytes, want %d", cw.n, cw.want)
		}
	}
}

type countWriter struct {
	n, want int
	b       *testing.B
}

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// BenchmarkBrokerRSS reports the broker's resident memory with three VMs
// connected (goal: at most 30 MiB), and its peak (VmHWM) after 100 MiB of
// output went through it from one of them.
func BenchmarkBrokerRSS(b *testing.B) {
	e, dirs := benchEnv(b, "one", "two", "three")
	pid := e.BrokerPID()
	if pid == 0 {
		b.Fatal("no broker")
	}
	var rss float64
	for i := 0; i < b.N; i++ {
		rss = rssMiB(b, pid, "VmRSS:")
	}
	b.ReportMetric(rss, "RSS-MiB")
	if out := e.ok(e.Root, "broker", "status").Stdout; strings.Count(out, `"connected": true`) != 3 {
		b.Fatalf("broker does not hold three connections:\n%s", out)
	}
	const size = 100 << 20
	c := e.cmd(dirs[0], "shell", "--", "head", "-c", strconv.Itoa(size), "/dev/zero")
	c.Stdout = &countWriter{want: size, b: b}
	if err := c.Run(); err != nil || c.Stdout.(*countWriter).n != size {
		b.Fatalf("streaming 100 MiB: %v", err)
	}
	b.ReportMetric(rssMiB(b, pid, "VmHWM:"), "peak-RSS-MiB")
}

// rssMiB reads a memory figure of /proc/PID/status (VmRSS:, VmHWM:) in MiB.
func rssMiB(b *testing.B, pid int, field string) float64 {
	s, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(s), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	b.Fatal("no " + field)
	return 0
}

// BenchmarkWarmShellInterleaved times warm `sysvm shell -- true` through a
// running broker and OpenSSH reusing a persistent ControlMaster
// (`ssh -F ssh.config HOST true`) alternately, b.N pairs, so that both see
// the same machine state; it reports each one's median, the median of the
// per-pair ratios and their 10th–90th percentile spread. Two variants
// show what other baselines would measure: OpenSSH without a master (a
// handshake per run) and sysvm with no broker running (each run starts one).
func BenchmarkWarmShellInterleaved(b *testing.B) {
	e, dirs := benchEnv(b, "inter")
	dir := dirs[0]
	cfg := e.SSHConfig("inter-dev")
	run := func(c *exec.Cmd) time.Duration {
		t0 := time.Now()
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", c.Args, err, out)
		}
		return time.Since(t0)
	}
	kinds := []struct {
		name string
		mk   func() *exec.Cmd
		pre  func()
	}{
		{"sysvm-broker", func() *exec.Cmd { return e.cmd(dir, "shell", "--", "true") }, nil},
		{"openssh-controlmaster", func() *exec.Cmd { return e.Command("ssh", "-F", cfg, "lima-inter-dev", "true") }, nil},
		{"openssh-no-master", func() *exec.Cmd {
			return e.Command("ssh", "-F", cfg, "-o", "ControlMaster=no", "-o", "ControlPath=none", "lima-inter-dev", "true")
		}, nil},
		{"sysvm-broker-not-running", func() *exec.Cmd { return e.cmd(dir, "shell", "--", "true") }, func() {
			if err := e.StopBroker(e.sysvm); err != nil {
				b.Fatal(err)
			}
		}},
	}
	times := make([][]time.Duration, len(kinds))
	for _, k := range kinds[:2] {
		run(k.mk()) // the ControlMaster starts here
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, k := range kinds {
			if k.pre != nil {
				k.pre()
			}
			times[j] = append(times[j], run(k.mk()))
		}
	}
	b.StopTimer()
	base := times[1]
	for j, k := range kinds {
		b.ReportMetric(ms(median(times[j])), k.name+"-ms")
		if j == 1 {
			continue
		}
		ratios := make([]float64, len(base))
		for i := range base {
			ratios[i] = float64(times[j][i]) / float64(base[i])
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], k.name+"/openssh-cm")
		b.ReportMetric(ratios[len(ratios)/10], k.name+"/openssh-cm-p10")
		b.ReportMetric(ratios[len(ratios)*9/10], k.name+"/openssh-cm-p90")
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
