// Package display makes text safe to print on a terminal. Every message
// sysvm prints that may carry a name or text from outside (a directory, a
// file's contents, a line of Lima's log) goes through [Safe]; a value
// listed for the user to decide on (the allow step) goes through [Line],
// which keeps it to one line. It prints
// nothing itself and imports nothing of sysvm's.
package display

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe makes text that may carry a directory name, a file's contents or
// a line of Lima's log safe to print on a terminal: control characters
// (escape sequences among them) and invalid UTF-8 are written as Go
// escapes, so a crafted name can neither restyle the terminal nor forge a
// line. Newlines and tabs stay: messages use them.
func Safe(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case unsafeRune(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return r != '\n' && r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029')
}

// MaxLine is how much of a value [Line] shows, in runes of its output.
const MaxLine = 160

// Line makes one value from outside (a setting from a project file) safe
// to show on one line of a listing the user decides on: like [Safe], and
// newlines, tabs and invisible formatting characters (bidirectional
// overrides among them) are escaped too, so the value can neither add
// lines nor reorder what is printed around it. A value longer than
// MaxLine is cut, and the cut says how long the value was.
func Line(s string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		piece := s[i : i+size]
		switch {
		case r == utf8.RuneError && size == 1:
			piece = `\x` + strconv.FormatUint(uint64(s[i]), 16)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			q := strconv.QuoteRune(r)
			piece = q[1 : len(q)-1]
		}
		if n+utf8.RuneCountInString(piece) > MaxLine {
			fmt.Fprintf(&b, "… (%d bytes in all)", len(s))
			return b.String()
		}
		b.WriteString(piece)
		n += utf8.RuneCountInString(piece)
		i += size
	}
	return b.String()
}
