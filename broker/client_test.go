package broker

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/sshx"
)

// A broker that takes the session request and hangs up without a reply is
// a lost link, and the error says why: what failed and the cause, not a
// bare "connection lost: ".
func TestChannelStartSaysWhyTheBrokerFailed(t *testing.T) {
	dir := filepath.Join(tempDir(t), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "broker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, _ = bufio.NewReader(c).ReadString('\n') // the request, then no reply
		c.Close()
	}()
	c := &Client{Socket: sock}
	_, err = c.Channel("p-dev", "/nowhere/ssh.config").Start("true", nil, "", io.Discard, io.Discard)
	var lost *sshx.LostError
	if !errors.As(err, &lost) {
		t.Fatalf("Start = %v, want a *sshx.LostError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "talking to the sysvm broker") || !strings.Contains(msg, io.EOF.Error()) {
		t.Errorf("the error does not say what failed and why: %q", msg)
	}
}
