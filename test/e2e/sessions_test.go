package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// With sshd at OpenSSH's default of 10 sessions per connection, 15
// sessions on one VM all work, and the first ten keep running when the
// eleventh opens.
func TestSessionsBeyondSSHDLimit(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			e.Setenv(m.env...)
			e.Setenv("FAKELIMA_MAX_SESSIONS=10")
			dir := e.project("busy", "")
			e.ok(dir, "shell", "--", "true")
			marks := filepath.Join(e.Root, "marks")
			os.MkdirAll(marks, 0o755)
			before := e.handshakes("busy-dev")

			var wg sync.WaitGroup
			errs := make(chan string, 15)
			start := func(i int, hold string) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					script := fmt.Sprintf("touch %s/%d; sleep %s; echo client-%d", marks, i, hold, i)
					r := e.run(dir, "shell", "--", "sh", "-c", script)
					if r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != fmt.Sprintf("client-%d", i) {
						errs <- fmt.Sprintf("client %d: %s", i, r)
					}
				}()
			}
			for i := 0; i < 10; i++ {
				start(i, "4")
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if n, _ := os.ReadDir(marks); len(n) == 10 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the first ten sessions did not all start")
				}
			}
			for i := 10; i < 15; i++ {
				start(i, "1")
			}
			wg.Wait()
			close(errs)
			for s := range errs {
				t.Error(s)
			}
			if m.name == "broker" {
				if n := e.handshakes("busy-dev") - before; n < 1 || n > 3 {
					t.Errorf("the broker made %d new SSH connections for 15 sessions, want one or two more", n)
				}
			}
		})
	}
}
