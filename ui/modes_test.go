package ui

import (
	"bytes"
	"strings"
	"testing"
)

func TestModesCountsKeyboardLevels(t *testing.T) {
	var relayed bytes.Buffer
	m := WatchModes(&relayed)
	// Two pushes (one split across writes), a pop of one, text in between.
	for _, chunk := range []string{"a\x1b[>1u", "b\x1b", "[>", "1u\x1b[?1004h", "\x1b[<1u", "\x1b[?2031h\x1b[31mx"} {
		m.Write([]byte(chunk))
	}
	if relayed.String() != "a\x1b[>1ub\x1b[>1u\x1b[?1004h\x1b[<1u\x1b[?2031h\x1b[31mx" {
		t.Errorf("relayed %q", relayed.String())
	}
	u, out, _ := testUI("")
	u.OutTTY = true
	u.ResetScreen(m)
	s := out.String()
	if strings.Count(s, "\x1b[<u") != 1 || !strings.Contains(s, "\x1b[?1004l") || !strings.Contains(s, "\x1b[?2031l") {
		t.Errorf("reset wrote %q", s)
	}
	// A pop of several levels, and none left: nothing more to pop.
	m.Write([]byte("\x1b[>1u\x1b[>1u\x1b[>1u\x1b[<2u"))
	out.Reset()
	u.ResetScreen(m)
	if strings.Count(out.String(), "\x1b[<u") != 1 {
		t.Errorf("after a pop of 2 of 3: %q", out.String())
	}
	out.Reset()
	u.ResetScreen(m)
	if strings.Count(out.String(), "\x1b[<u") != 0 {
		t.Errorf("levels popped twice: %q", out.String())
	}
}
