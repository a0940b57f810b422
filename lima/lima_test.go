package lima

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// realLine is one line of `limactl list --json` from Lima v1.2.2 for a real
// QEMU instance (the kind test/realvm boots), shortened in its config object.
const realLine = `{"name":"e2e","hostname":"lima-e2e","status":"Running","dir":"/tmp/svl/e2e","vmType":"qemu","arch":"x86_64","cpuType":"max","cpus":2,"memory":2147483648,"disk":8589934592,"sshLocalPort":35383,"sshConfigFile":"/tmp/svl/e2e/ssh.config","hostAgentPID":24999,"driverPID":25019,"config":{"vmType":"qemu"},"sshAddress":"127.0.0.1","protected":false,"limaVersion":"v1.2.2","HostOS":"linux","HostArch":"x86_64","LimaHome":"/tmp/svl","IdentityFile":"/tmp/svl/_config/user"}`

// line22 is the same kind of instance as Lima v2.2.0 prints it with --json:
// no cpuType, and the empty error objects deleted by yq.
const line22 = `{"name":"b","hostname":"lima-b","status":"Broken","dir":"/l/b","vmType":"qemu","arch":"x86_64","cpus":4,"sshLocalPort":41234,"sshConfigFile":"/l/b/ssh.config","errors":[],"sshAddress":"127.0.0.1","protected":false,"limaVersion":"v2.2.0","HostOS":"linux","HostArch":"x86_64","LimaHome":"/l","IdentityFile":"/l/_config/user"}`

func TestParseList(t *testing.T) {
	stopped := `{"name":"b","status":"Stopped","dir":"/l/b","errors":[{}],"protected":false,"limaVersion":"","HostOS":"linux","HostArch":"x86_64","LimaHome":"/l","IdentityFile":"/l/_config/user"}`
	for _, tc := range []struct {
		name, out string
		want      []Instance
	}{
		{"1.2.2 running and stopped with an error", realLine + "\n" + stopped + "\n\n", []Instance{
			{Name: "e2e", Status: StatusRunning, Dir: "/tmp/svl/e2e", SSHLocalPort: 35383, SSHConfigFile: "/tmp/svl/e2e/ssh.config", VMType: "qemu", HostAgentPID: 24999},
			{Name: "b", Status: StatusStopped, Dir: "/l/b"}}},
		{"2.2 broken, errors emptied", line22 + "\n", []Instance{
			{Name: "b", Status: StatusBroken, Dir: "/l/b", SSHLocalPort: 41234, SSHConfigFile: "/l/b/ssh.config", VMType: "qemu"}}},
	} {
		got, err := parseList([]byte(tc.out))
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", tc.name, got, err, tc.want)
		}
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

func TestSetExpression(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     map[string]any
		removed []string
		want    string
		err     bool
	}{
		{name: "scalars", set: map[string]any{"memory": "8GiB", "cpus": 4}, want: `.cpus = 4 | .memory = "8GiB"`},
		{name: "lists and maps", set: map[string]any{"portForwards": []any{map[string]any{"guestPort": 3000, "hostIP": "127.0.0.1"}}},
			want: `.portForwards = [{"guestPort": 3000, "hostIP": "127.0.0.1"}]`},
		{name: "a script, newlines and quotes", set: map[string]any{"provision": []any{map[string]any{"mode": "user", "script": "#!/bin/sh\necho \"hi\" | tr a-z A-Z\n"}}},
			want: ".provision = [{\"mode\": \"user\", \"script\": \"#!/bin/sh\necho \\\"hi\\\" | tr a-z A-Z\n\"}]"},
		{name: "removed", set: map[string]any{"cpus": 2}, removed: []string{"env"}, want: `.cpus = 2 | del(.env)`},
		{name: "null and bool", set: map[string]any{"env": nil, "plain": false}, want: `.env = null | .plain = false`},
		{name: "a backslash before a quote", set: map[string]any{"env": map[string]any{"A": `x\"y`}}, err: true},
		{name: "a trailing backslash", set: map[string]any{"env": map[string]any{"A": `x\`}}, err: true},
		{name: "a key that is no name", set: map[string]any{"a.b": 1}, err: true},
		{name: "nothing", err: true},
	} {
		got, err := SetExpression(tc.set, tc.removed)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s: SetExpression = %q, %v; want %q (error %v)", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestEdit: the changes go to limactl as one --set, for the instance, with
// --tty=false.
func TestEdit(t *testing.T) {
	exe, runs := countingLimactl(t, t.TempDir(), "2.2.0")
	c := &Client{Exe: exe}
	if err := c.Edit(context.Background(), "p", map[string]any{"cpus": 4, "memory": "8GiB"}, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(runs)
	if got := strings.TrimSpace(string(b)); got != `edit --tty=false --set .cpus = 4 | .memory = "8GiB" p` {
		t.Errorf("ran %q", got)
	}
}
