package display

import "testing"

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
