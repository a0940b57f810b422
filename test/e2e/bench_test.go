package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
// connected (goal: at most 30 MiB).
func BenchmarkBrokerRSS(b *testing.B) {
	e, _ := benchEnv(b, "one", "two", "three")
	pid := e.BrokerPID()
	if pid == 0 {
		b.Fatal("no broker")
	}
	var rss float64
	for i := 0; i < b.N; i++ {
		rss = rssMiB(b, pid)
	}
	b.ReportMetric(rss, "RSS-MiB")
	if out := e.ok(e.Root, "broker", "status").Stdout; strings.Count(out, `"connected": true`) != 3 {
		b.Fatalf("broker does not hold three connections:\n%s", out)
	}
}

func rssMiB(b *testing.B, pid int) float64 {
	s, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(s), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
