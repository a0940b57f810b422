package display

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzLine: whatever a project file holds, its listed value is valid
// UTF-8 on one line, with no control or invisible formatting character,
// no longer than the cap, and unchanged when it needed no escaping.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "/opt/zellij", "a\nb", "\x1b]0;x\a", "\xff\xfe", "\u202e", strings.Repeat("\n", 60), strings.Repeat("é", 500)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Line(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Line(%q) = %q: invalid UTF-8", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("Line(%q) = %q holds %U", s, got, r)
			}
		}
		if n := utf8.RuneCountInString(got); n > MaxLine+len("… (18446744073709551615 bytes in all)") {
			t.Fatalf("Line(%q) is %d runes long", s, n)
		}
		plain := utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
		}) < 0
		if plain && utf8.RuneCountInString(s) <= MaxLine && got != s {
			t.Fatalf("Line(%q) = %q, want it unchanged", s, got)
		}
		if !strings.HasSuffix(got, " bytes in all)") && len(got) < len(s) {
			t.Fatalf("Line(%q) = %q lost text without saying so", s, got)
		}
	})
}
