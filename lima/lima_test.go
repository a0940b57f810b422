package lima

import (
	"errors"
	"os/exec"
	"testing"
)

// realLine is one line of `limactl list --json` from Lima v1.2.2 for a real
// QEMU instance (the kind test/realvm boots), shortened in its config object.
const realLine = `{"name":"e2e","hostname":"lima-e2e","status":"Running","dir":"/tmp/svl/e2e","vmType":"qemu","arch":"x86_64","cpuType":"max","cpus":2,"memory":2147483648,"disk":8589934592,"sshLocalPort":35383,"sshConfigFile":"/tmp/svl/e2e/ssh.config","hostAgentPID":24999,"driverPID":25019,"config":{"vmType":"qemu"},"sshAddress":"127.0.0.1","protected":false,"limaVersion":"v1.2.2","HostOS":"linux","HostArch":"x86_64","LimaHome":"/tmp/svl","IdentityFile":"/tmp/svl/_config/user"}`

func TestParseList(t *testing.T) {
	stopped := `{"name":"b","status":"Stopped","dir":"/l/b","errors":[{}],"protected":false,"limaVersion":"","HostOS":"linux","HostArch":"x86_64","LimaHome":"/l","IdentityFile":"/l/_config/user"}`
	insts, err := parseList([]byte(realLine + "\n" + stopped + "\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 2 {
		t.Fatalf("got %d instances, want 2 (one JSON object per line)", len(insts))
	}
	a, b := insts[0], insts[1]
	if a.Name != "e2e" || a.Status != StatusRunning || a.SSHLocalPort != 35383 || a.SSHConfigFile != "/tmp/svl/e2e/ssh.config" || a.Memory != 2147483648 {
		t.Errorf("running instance: %+v", a)
	}
	if b.Status != StatusStopped || b.SSHLocalPort != 0 || len(b.Errors) != 1 {
		t.Errorf("stopped instance: %+v", b)
	}
	if _, err := parseList([]byte("[" + realLine + "]")); err == nil {
		t.Error("an array is not limactl's format; want an error")
	}
}

func TestLogMessage(t *testing.T) {
	for line, want := range map[string]string{
		`time="2026-11-25T20:00:00Z" level=fatal msg="instance \"x\" already exists (\"/l/x\")"`: `instance "x" already exists ("/l/x")`,
		`level=info msg="READY. Run ` + "`limactl shell x`" + ` to open the shell."`:             "READY. Run `limactl shell x` to open the shell.",
		"plain text": "plain text",
	} {
		if got := LogMessage(line); got != want {
			t.Errorf("LogMessage(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestCommandErrorReason(t *testing.T) {
	e := &CommandError{Args: []string{"start", "x"}, Err: errors.New("exit status 1"),
		Stderr: "time=\"t\" level=info msg=\"starting\"\ntime=\"t\" level=fatal msg=\"exiting, status={Running:false} (hint: see \\\"/l/x/ha.stderr.log\\\")\"\n"}
	if r := e.Reason(); r != `exiting, status={Running:false} (hint: see "/l/x/ha.stderr.log")` {
		t.Errorf("Reason = %q", r)
	}
}

func TestFind(t *testing.T) {
	env := map[string]string{"LIMACTL": "/nonexistent/limactl"}
	if _, err := Find(func(k string) string { return env[k] }); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("missing $LIMACTL: %v", err)
	}
	sh, _ := exec.LookPath("sh")
	env["LIMACTL"] = sh
	if p, err := Find(func(k string) string { return env[k] }); err != nil || p != sh {
		t.Errorf("Find = %q, %v", p, err)
	}
}
