package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startAgent runs an ssh-agent holding one key named comment and returns
// its socket.
func (e *env) startAgent(t *testing.T, comment string) string {
	t.Helper()
	needTools(t, "ssh-agent", "ssh-add", "ssh-keygen")
	sock := filepath.Join(e.Root, comment+".sock")
	agent := exec.Command("ssh-agent", "-a", sock, "-D")
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	key := filepath.Join(e.Root, comment)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		add := exec.Command("ssh-add", key)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		if add.Run() == nil {
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh-add did not reach the agent")
		}
	}
}

// Two sessions on one VM at once, each with its own SSH agent: each sees
// its own agent, never the other's (the broker keeps them on separate
// connections, since the VM's agent channels name no session).
func TestAgentForwardedPerSession(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			dir := e.project("agents", "forwardAgent: true\n")
			e.ok(dir, "up")
			a, b := e.startAgent(t, "agent-a"), e.startAgent(t, "agent-b")
			mark := filepath.Join(e.Root, "a-listed")
			var wg sync.WaitGroup
			var first string
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := e.cmd(dir, "shell", "--", "sh", "-c", "ssh-add -l; touch "+mark+"; sleep 3; ssh-add -l")
				c.Env = append(c.Env, "SSH_AUTH_SOCK="+a)
				first = runCmd(c).Stdout
			}()
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if _, err := os.Stat(mark); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the first session did not start")
				}
			}
			c := e.cmd(dir, "shell", "--", "ssh-add", "-l")
			c.Env = append(c.Env, "SSH_AUTH_SOCK="+b)
			second := runCmd(c)
			wg.Wait()
			if !strings.Contains(second.Stdout, "agent-b") || strings.Contains(second.Stdout, "agent-a") {
				t.Errorf("the second session's agent: %s", second)
			}
			if strings.Count(first, "agent-a") != 2 || strings.Contains(first, "agent-b") {
				t.Errorf("the first session's agent, before and after the second: %q", first)
			}
		})
	}
}
