package broker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/sysvm/sysvm/sshx"
)

func TestFrames(t *testing.T) {
	tests := []struct {
		name    string
		payload int
		// frames is how many frames the writer sends for the payload.
		frames int
	}{
		{"empty", 0, 1},
		{"small", 5, 1},
		{"at the maximum", maxFrame, 1},
		// A payload over the maximum is split, never sent as one frame the
		// reader would refuse.
		{"over the maximum", maxFrame + 1, 2},
		{"several maxima", 3*maxFrame + 7, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte("x"), tt.payload)
			var buf bytes.Buffer
			if err := (&frameWriter{w: &buf}).write(frameStdout, payload); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(&buf)
			var got []byte
			for i := 0; i < tt.frames; i++ {
				typ, p, err := readFrame(r, nil)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if typ != frameStdout {
					t.Fatalf("frame %d: type %q", i, typ)
				}
				got = append(got, p...)
			}
			if _, _, err := readFrame(r, nil); err != io.EOF {
				t.Fatalf("after %d frames: %v, want EOF", tt.frames, err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("read back %d bytes, want %d", len(got), len(payload))
			}
		})
	}
}

func TestReadFrameRefusesBadFrames(t *testing.T) {
	header := func(typ byte, n uint32) []byte {
		h := []byte{typ, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(h[1:], n)
		return h
	}
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"oversized", header(frameStdin, maxFrame+1), "too large"},
		{"truncated header", []byte{frameStdin, 0, 0}, "unexpected EOF"},
		{"truncated payload", append(header(frameStdin, 10), "short"...), "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readFrame(bufio.NewReader(bytes.NewReader(tt.input)), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestResizeFrame(t *testing.T) {
	rows, cols, err := fromU32pair(u32pair(40, 120))
	if err != nil || rows != 40 || cols != 120 {
		t.Fatalf("got %d×%d, %v", rows, cols, err)
	}
	if _, _, err := fromU32pair([]byte{1, 2, 3}); err == nil {
		t.Fatal("a short resize frame was accepted")
	}
}

// TestErrorKindsCrossTheSocket: an sshx error the broker meets reaches the
// client, through the JSON reply, as the same type, so the CLI gives the
// same hint as for a direct connection.
func TestErrorKindsCrossTheSocket(t *testing.T) {
	tests := []struct {
		err  error
		kind sshx.Kind
	}{
		{&sshx.HostKeyChangedError{VM: "a-dev", WantFP: "SHA256:old", GotFP: "SHA256:new"}, sshx.KindHostKey},
		{&sshx.UnreachableError{Addr: "127.0.0.1:1", Err: errors.New("connection refused")}, sshx.KindUnreachable},
		{&sshx.ConfigError{Path: "/l/a/ssh.config", Err: errors.New("no Port")}, sshx.KindConfig},
		{&sshx.ConfigError{Path: "/l/a/ssh.config", Err: fmt.Errorf("open: %w", os.ErrNotExist)}, sshx.KindConfigMissing},
		{&sshx.KeyError{Path: "/l/_config/user", Err: os.ErrPermission}, sshx.KindKey},
		{fmt.Errorf("wrapped: %w", &sshx.KeyError{Path: "k", Err: os.ErrPermission}), sshx.KindKey},
		{errors.New("the VM refused sysvm's key"), sshx.KindOther},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+tt.err.Error(), func(t *testing.T) {
			b, err := json.Marshal(errReply(tt.err))
			if err != nil {
				t.Fatal(err)
			}
			var rep reply
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			got := rep.err()
			if got == nil || sshx.KindOf(got) != tt.kind {
				t.Fatalf("rebuilt %T %v (kind %q), want kind %q", got, got, sshx.KindOf(got), tt.kind)
			}
			var hk *sshx.HostKeyChangedError
			if errors.As(tt.err, &hk) {
				var ghk *sshx.HostKeyChangedError
				if !errors.As(got, &ghk) || *ghk != *hk {
					t.Fatalf("host key error came back as %+v, want %+v", got, hk)
				}
			}
		})
	}
	if errReply(nil).err() != nil {
		t.Fatal("a success reply carries an error")
	}
}
