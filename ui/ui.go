// Package ui is every byte sysvm writes to a terminal: the streams (stdin,
// stdout, stderr) and which of them are terminals, sysvm's own `sysvm:`
// lines and its log on stderr, the one progress line, the y/N prompt,
// --quiet and --verbose, and the reset of the modes a remote full-screen
// program left on (counting on its way the keyboard levels it pushed).
// Every line it prints is escaped with package display, so a name, a
// file's contents or a line of a tool's log can neither restyle the
// terminal nor forge a line, whoever calls it.
//
// It decides nothing: callers say what to print and ui says how. It
// imports nothing of sysvm's but display, and never exits.
package ui

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/sysvm/sysvm/display"
	"golang.org/x/term"
)

// UI is one invocation's terminal. A nil *UI prints nothing and asks
// nothing.
type UI struct {
	// In, Out and ErrOut are the streams, as given: an *os.File stays
	// one, for the callers that need its descriptor.
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY, OutTTY and ErrTTY say which streams are terminals. New sets
	// them from the streams; tests set them by hand.
	InTTY, OutTTY, ErrTTY bool
	// Width is stderr's width in columns, which the progress line never
	// reaches; 80 when unknown.
	Width int
	// Quiet silences [UI.Say] and the progress line (--quiet).
	Quiet bool
	// Verbose adds a tool's own latest line to the progress (--verbose).
	Verbose bool
	// CRLF ends lines with \r\n, for a stream that may reach a terminal
	// in raw mode (a remote session's stderr).
	CRLF bool

	mu    sync.Mutex
	drawn bool // a progress line is drawn in place on stderr
}

// New returns the UI of the given streams, with what they are (terminals,
// stderr's width) found from their descriptors.
func New(in io.Reader, out, errOut io.Writer) *UI {
	u := &UI{In: in, Out: out, ErrOut: errOut, Width: 80}
	u.InTTY, u.OutTTY, u.ErrTTY = isTerminal(in), isTerminal(out), isTerminal(errOut)
	if f, ok := errOut.(interface{ Fd() uintptr }); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			u.Width = w
		}
	}
	return u
}

// isTerminal reports whether s is a file on a terminal. A nil *os.File
// has the descriptor -1, which is none.
func isTerminal(s any) bool {
	f, ok := s.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// Say writes one `sysvm:` line to stderr unless --quiet: what sysvm is
// doing or has done.
func (u *UI) Say(format string, args ...any) {
	if u != nil && !u.Quiet {
		u.line("", format, args...)
	}
}

// Tell writes one `sysvm:` line to stderr, even with --quiet: the answer
// to what the user asked, or news the user must not miss.
func (u *UI) Tell(format string, args ...any) { u.line("", format, args...) }

// Note writes a `sysvm: note:` line to stderr, even with --quiet.
func (u *UI) Note(format string, args ...any) { u.line("note: ", format, args...) }

// Warn writes a `sysvm: warning:` line to stderr, even with --quiet.
func (u *UI) Warn(format string, args ...any) { u.line("warning: ", format, args...) }

// Error writes a `sysvm: error:` line to stderr, even with --quiet.
func (u *UI) Error(format string, args ...any) { u.line("error: ", format, args...) }

// Hint writes a `sysvm: hint:` line to stderr, even with --quiet: what to
// do next.
func (u *UI) Hint(format string, args ...any) { u.line("hint: ", format, args...) }

// line writes `sysvm: <kind><message>` on a line of its own, taking the
// place of a progress line drawn in place.
func (u *UI) line(kind, format string, args ...any) {
	if u == nil || u.ErrOut == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.clear()
	end := "\n"
	if u.CRLF {
		end = "\r\n"
	}
	fmt.Fprint(u.ErrOut, "sysvm: "+kind+display.Safe(fmt.Sprintf(format, args...))+end)
}

// clear erases the progress line drawn in place, if any. u.mu is held.
func (u *UI) clear() {
	if u.drawn {
		fmt.Fprint(u.ErrOut, eraseLine)
		u.drawn = false
	}
}

// eraseLine returns to the start of the line and erases it.
const eraseLine = "\r\x1b[K"

// Log returns a logger that writes to stderr at level and above (sysvm's
// --verbose and SYSVM_DEBUG log, the broker's log); a progress line makes
// way for its records as for any line.
func (u *UI) Log(level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{u}, &slog.HandlerOptions{Level: level}))
}

// logWriter writes a log record, which slog hands over whole, to stderr.
type logWriter struct{ u *UI }

func (w logWriter) Write(b []byte) (int, error) {
	w.u.mu.Lock()
	defer w.u.mu.Unlock()
	w.u.clear()
	return w.u.ErrOut.Write(b)
}

// Print writes text for the user to read (a report, not data for a
// program) to stdout, escaped.
func (u *UI) Print(text string) {
	if u != nil && u.Out != nil {
		fmt.Fprint(u.Out, display.Safe(text))
	}
}

// CanPrompt reports whether sysvm can ask a question: stdin is a terminal.
func (u *UI) CanPrompt() bool { return u != nil && u.InTTY && u.In != nil }

// Confirm asks question on the terminal, as `question [y/N] `, and reports
// whether the answer was yes; after any other answer it says that nothing
// changed. Without a terminal on stdin it asks nothing and returns false:
// callers check [UI.CanPrompt] first to say how to answer yes without one.
func (u *UI) Confirm(question string) bool {
	if !u.CanPrompt() {
		return false
	}
	u.mu.Lock()
	u.clear()
	fmt.Fprintf(u.ErrOut, "%s [y/N] ", display.Safe(question))
	u.mu.Unlock()
	line, _ := bufio.NewReader(u.In).ReadString('\n')
	if ans := strings.ToLower(strings.TrimSpace(line)); ans != "y" && ans != "yes" {
		u.Tell("nothing changed")
		return false
	}
	return true
}
