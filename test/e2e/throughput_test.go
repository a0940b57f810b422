package e2e

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"

	"github.com/sysvm/sysvm/sshx"
)

// TestNegotiatedCipher dials a lab VM the way sysvm does (the ciphers of
// Lima's ssh.config first) and checks that the link uses AES-GCM when the
// CPU accelerates AES, as OpenSSH with the same ssh.config does, and an AEAD
// cipher (no separate MAC) either way.
func TestNegotiatedCipher(t *testing.T) {
	e, _ := benchEnv(t, "cipher")
	cfg, err := sshx.ReadConfig(e.SSHConfig("cipher-dev"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sshx.Dial(context.Background(), cfg, sshx.Options{VM: "cipher-dev"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	algs := c.Conn.(ssh.AlgorithmsConnMetadata).Algorithms()
	t.Logf("ssh.config Ciphers %v; negotiated kex %s, read %+v, write %+v", cfg.Ciphers, algs.KeyExchange, algs.Read, algs.Write)
	aes := cpu.X86.HasAES || cpu.ARM64.HasAES
	for _, d := range []ssh.DirectionAlgorithms{algs.Read, algs.Write} {
		gcm := strings.HasPrefix(d.Cipher, "aes") && strings.Contains(d.Cipher, "gcm")
		if aes && !gcm {
			t.Errorf("the CPU has AES instructions but the link uses %s", d.Cipher)
		}
		if !gcm && d.Cipher != "chacha20-poly1305@openssh.com" {
			t.Errorf("the link uses %s (MAC %s), not an AEAD cipher", d.Cipher, d.MAC)
		}
	}
}

// BenchmarkSSHRead100MiB is the minimal program behind the stream
// figures: 100 MiB read from the lab's sshd by golang.org/x/crypto/ssh in
// this process (sysvm's dialer, no broker, no terminal, output discarded)
// against OpenSSH's client with a ControlMaster. x/crypto sends a window
// adjustment after each read of the channel once a few packets are
// outstanding, so the reader's buffer size matters: "xcrypto-8k" reads
// through io.Discard (8 KiB reads), "xcrypto-32k" as io.Copy does,
// "xcrypto-256k" with a large one. "xcrypto-pty-256k" asks for a remote
// PTY, whose output comes in packets of about 4 KiB, as a terminal
// session's does. Each reports the CPU this process spent per 100 MiB
// (cpu-ms/op; run with -cpu 1 to match the broker's one thread), and
// OpenSSH the CPU of its ControlMaster for one more run of its own
// (master-cpu-ms/op). Run it with -count to interleave them.
func BenchmarkSSHRead100MiB(b *testing.B) {
	e, _ := benchEnv(b, "xread")
	const size = 100 << 20
	src := "head -c " + strconv.Itoa(size) + " /dev/zero"
	cfg, err := sshx.ReadConfig(e.SSHConfig("xread-dev"))
	if err != nil {
		b.Fatal(err)
	}
	type variant struct {
		name string
		bs   int
		pty  bool
	}
	for _, v := range []variant{{"8k", 8 << 10, false}, {"32k", 32 << 10, false}, {"256k", 256 << 10, false}, {"pty-256k", 256 << 10, true}} {
		bs := v.bs
		b.Run("xcrypto-"+v.name, func(b *testing.B) {
			b.SetBytes(size)
			c, err := sshx.Dial(context.Background(), cfg, sshx.Options{VM: "xread-dev"})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, bs)
			cpu0 := selfCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := c.NewSession()
				if err != nil {
					b.Fatal(err)
				}
				if v.pty {
					if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
						b.Fatal(err)
					}
				}
				out, _ := s.StdoutPipe()
				if err := s.Start(src); err != nil {
					b.Fatal(err)
				}
				// Only the reads' size matters: io.CopyBuffer would hand
				// io.Discard's ReadFrom the reader and use 8 KiB.
				var n int64
				for {
					k, err := out.Read(buf)
					n += int64(k)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				// The guest's terminal may add a line end.
				if n < size || n > size+64 {
					b.Fatalf("read %d bytes", n)
				}
				_ = s.Wait()
			}
			b.StopTimer()
			b.ReportMetric(ms(selfCPU()-cpu0)/float64(b.N), "cpu-ms/op")
		})
	}
	b.Run("openssh-controlmaster", func(b *testing.B) {
		b.SetBytes(size)
		runStream(b, func() *exec.Cmd {
			c := e.Command("ssh", "-F", e.SSHConfig("xread-dev"), "lima-xread-dev", src)
			c.Stdout = &countWriter{want: size, b: b}
			return c
		})
		b.StopTimer()
		masterCPU(b, e, "xread-dev", func() {
			c := e.Command("ssh", "-F", e.SSHConfig("xread-dev"), "lima-xread-dev", src)
			c.Stdout = &countWriter{want: size, b: b}
			if err := c.Run(); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("openssh-controlmaster-pty", func(b *testing.B) {
		b.SetBytes(size)
		mk := func() *exec.Cmd {
			return e.Command("ssh", "-tt", "-F", e.SSHConfig("xread-dev"), "lima-xread-dev", src)
		}
		runPTYStream(b, size, mk)
		b.StopTimer()
		masterCPU(b, e, "xread-dev", func() { ptyStreamOnce(b, size, mk()) })
	})
}

// masterCPU reports the CPU time the ControlMaster spends on one run.
func masterCPU(b *testing.B, e *env, vm string, run func()) {
	pid := masterPID(b, e, vm)
	c0 := cpuTime(b, pid)
	run()
	b.ReportMetric(ms(cpuTime(b, pid)-c0), "master-cpu-ms/op")
}

// selfCPU is the CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStream100MiBPTY streams 100 MiB out of the VM with a PTY on
// both ends (a local pseudo-terminal as sysvm's stdin and stdout, so
// `sysvm shell` asks for a remote one) through the broker and through
// OpenSSH with a ControlMaster (`ssh -tt`).
func BenchmarkStream100MiBPTY(b *testing.B) {
	e, dirs := benchEnv(b, "ptystream")
	dir := dirs[0]
	const size = 100 << 20
	src := "head -c " + strconv.Itoa(size) + " /dev/zero"
	b.Run("sysvm-broker", func(b *testing.B) {
		b.SetBytes(size)
		runPTYStream(b, size, func() *exec.Cmd { return e.cmd(dir, "shell", "--", "sh", "-c", src) })
	})
	b.Run("sysvm-broker-relay", func(b *testing.B) {
		b.SetBytes(size)
		runPTYStream(b, size, func() *exec.Cmd {
			c := e.cmd(dir, "shell", "--", "sh", "-c", src)
			c.Env = append(c.Env, "SYSVM_BROKER_FDS=0")
			return c
		})
	})
	b.Run("openssh-controlmaster", func(b *testing.B) {
		b.SetBytes(size)
		runPTYStream(b, size, func() *exec.Cmd {
			return e.Command("ssh", "-tt", "-F", e.SSHConfig("ptystream-dev"), "lima-ptystream-dev", src)
		})
	})
}

func runPTYStream(b *testing.B, size int64, mk func() *exec.Cmd) {
	ptyStreamOnce(b, size, mk())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ptyStreamOnce(b, size, mk())
	}
}

// ptyStreamOnce runs c with a local pseudo-terminal as its stdin and
// stdout, reads all it prints and checks that size bytes arrived.
func ptyStreamOnce(b testing.TB, size int64, c *exec.Cmd) {
	f, err := pty.StartWithSize(c, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(k)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EIO) {
				b.Fatal(err)
			}
			break
		}
	}
	if err := c.Wait(); err != nil {
		b.Fatalf("%v: %v", c.Args, err)
	}
	// The guest's terminal may add a line end; nothing may be missing.
	if n < size || n > size+64 {
		b.Fatalf("received %d bytes, want %d", n, size)
	}
}

// TestShellBrokenPipe: with the broker writing into the client's stdout
// itself, a reader that goes away (`| head`) still ends the remote
// command, and sysvm reports 141 as a command killed by SIGPIPE would;
// the same with the output relayed in frames (SYSVM_BROKER_FDS=0).
func TestShellBrokenPipe(t *testing.T) {
	e, dirs := benchEnv(t, "pipe")
	for _, fds := range []string{"1", "0"} {
		c := e.Command("bash", "-c", `"$0" shell -- yes | head -c 4; echo " ${PIPESTATUS[0]}"`, e.sysvm)
		c.Dir = dirs[0]
		c.Env = append(c.Env, "SYSVM_BROKER_FDS="+fds)
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = c.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = c.Process.Kill()
			<-done
			t.Fatalf("SYSVM_BROKER_FDS=%s: `sysvm shell -- yes | head` still runs after 30s", fds)
		}
		if err != nil || string(out) != "y\ny\n 141\n" {
			t.Errorf("SYSVM_BROKER_FDS=%s: %q, %v; want %q", fds, out, err, "y\ny\n 141\n")
		}
	}
}
