package ui

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Modes passes a remote full-screen program's output on to the terminal
// and counts the kitty keyboard protocol levels it pushed (ESC[>flags u)
// and has not popped (ESC[<n u), so that [UI.ResetScreen] can pop them
// when the program is gone without its own teardown (a lost link).
type Modes struct {
	mu     sync.Mutex
	w      io.Writer
	levels int
	csi    []byte // the control sequence being read, from its ESC
}

// WatchModes returns a Modes writing to w.
func WatchModes(w io.Writer) *Modes { return &Modes{w: w} }

// Write passes p on and follows the keyboard levels in it; a sequence may
// be split across writes.
func (m *Modes) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range p {
		m.scan(c)
	}
	return m.w.Write(p)
}

// scan reads one byte of a CSI sequence: ESC [ parameters final.
func (m *Modes) scan(c byte) {
	switch {
	case c == 0x1b:
		m.csi = append(m.csi[:0], c)
	case len(m.csi) == 0:
	case len(m.csi) == 1:
		if c == '[' {
			m.csi = append(m.csi, c)
		} else {
			m.csi = m.csi[:0]
		}
	case c >= 0x20 && c <= 0x3f && len(m.csi) < 32:
		m.csi = append(m.csi, c)
	default:
		if c == 'u' {
			m.keyboard(string(m.csi[2:]))
		}
		m.csi = m.csi[:0]
	}
}

// keyboard applies the parameters of an ESC[...u sequence.
func (m *Modes) keyboard(params string) {
	switch {
	case strings.HasPrefix(params, ">"):
		m.levels++
	case strings.HasPrefix(params, "<"):
		n, err := strconv.Atoi(params[1:])
		if err != nil || n < 1 {
			n = 1
		}
		m.levels = max(0, m.levels-n)
	}
}

// take returns the levels still pushed and forgets them.
func (m *Modes) take() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.levels
	m.levels = 0
	return n
}

// modesOff is what turns off the modes a program may have left on besides
// the keyboard levels: the alternate screen, a hidden cursor, mouse
// reporting, bracketed paste, focus reporting and theme notifications.
const modesOff = "\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1004l\x1b[?2031l"

// keyboardPop pops one kitty keyboard protocol level.
const keyboardPop = "\x1b[<u"

// ResetScreen turns off what a full-screen program may have left on in a
// terminal on stdout (see modesOff), pops the keyboard levels its output
// m pushed (m may be nil), and starts a new line, so that what sysvm says
// next reads on the host's screen and the keys typed next reach it as
// plain keys.
func (u *UI) ResetScreen(m *Modes) {
	levels := m.take()
	if u != nil && u.OutTTY && u.Out != nil {
		fmt.Fprint(u.Out, modesOff+strings.Repeat(keyboardPop, levels)+"\r\n")
	}
}
