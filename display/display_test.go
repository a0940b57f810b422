package display

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeEscapesControlCharacters(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/home/a/proj", "/home/a/proj"},
		{"/home/a/ünïcode", "/home/a/ünïcode"},
		{"two\nlines\tand a tab", "two\nlines\tand a tab"},
		{"/tmp/\x1b]0;pwned\x07x", `/tmp/\x1b]0;pwned\ax`},
		{"/tmp/\x1b[2J", `/tmp/\x1b[2J`},
		{"cr\rover", `cr\rover`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bad \xff byte", `bad \xff byte`},
		{"del\x7f", `del\x7f`},
	}
	for _, tt := range tests {
		if got := Safe(tt.in); got != tt.want {
			t.Errorf("Safe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLineKeepsAValueOnOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/opt/zellij", "/opt/zellij"},
		{"ünïcode", "ünïcode"},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"\x1b[2Jx", `\x1b[2Jx`},
		{"bad \xff byte", `bad \xff byte`},
		{"rtl \u202eexe.txt", `rtl \u202eexe.txt`},
		{"ls\u2028x", `ls\u2028x`},
	}
	for _, tt := range tests {
		if got := Line(tt.in); got != tt.want {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("a", 1000)
	if got := Line(long); utf8.RuneCountInString(got) > MaxLine+30 || !strings.HasSuffix(got, "… (1000 bytes in all)") {
		t.Errorf("Line of 1000 bytes = %q", got)
	}
	if got := Line(strings.Repeat("\n", 60)); strings.Contains(got, "\n") || !strings.HasPrefix(got, `\n\n`) {
		t.Errorf("Line of 60 newlines = %q", got)
	}
}
