package release

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/ui/uitest"
)

func TestTarget(t *testing.T) {
	tests := []struct {
		machine, want string
		ok            bool
	}{
		{"x86_64", "x86_64-unknown-linux-musl", true},
		{"aarch64", "aarch64-unknown-linux-musl", true},
		// macOS and some BSD-derived userlands say arm64 for the same CPU.
		{"arm64", "aarch64-unknown-linux-musl", true},
		{"riscv64", "", false},
		{"armv7l", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := Target(tt.machine)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("Target(%q) = %q, %v; want %q, ok %v", tt.machine, got, err, tt.want, tt.ok)
		}
		var ae *ArchError
		if !tt.ok && !errors.As(err, &ae) {
			t.Errorf("Target(%q) error %v is not an *ArchError", tt.machine, err)
		}
	}
}

func TestParseSum(t *testing.T) {
	const hex = "d8b311d0f9ec7a03f3341563331aac12c9f52990ecc96a36ed44b1add9dfa035"
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"0.39 format", hex + "  zellij\n", true},
		{"0.43 format", hex + "  target/x86_64-unknown-linux-musl/release/zellij\n", true},
		{"binary mode marker", hex + " *zellij\n", true},
		{"upper case", strings.ToUpper(hex) + "  zellij", true},
		{"empty", "", false},
		{"no file name", hex + "\n", false},
		{"short digest", hex[:63] + "  zellij\n", false},
		{"not hex", "z" + hex[1:] + "  zellij\n", false},
		// A sum of the tarball is not a sum of the binary.
		{"sums another file", hex + "  zellij-x86_64-unknown-linux-musl.tar.gz\n", false},
		{"similar name", hex + "  notzellij\n", false},
	}
	for _, tt := range tests {
		got, err := ParseSum([]byte(tt.in))
		if (err == nil) != tt.ok || (tt.ok && got != hex) {
			t.Errorf("%s: ParseSum = %q, %v; want ok %v", tt.name, got, err, tt.ok)
		}
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		out, version string
		parsed, ok   bool
	}{
		{"zellij 0.45.0", "0.45.0", true, true},
		{"zellij 0.39.0\n", "0.39.0", true, true},
		{"zellij 0.46.0-dev", "0.46.0-dev", true, true},
		{"zellij 1.0.0", "1.0.0", true, true},
		{"zellij 0.38.2", "0.38.2", true, false},
		{"zellij 0.30.0", "0.30.0", true, false},
		{"zellij", "", false, false},
		{"tmux 3.4", "", false, false},
		{"zellij 0.45", "", false, false},
	}
	for _, tt := range tests {
		v, parsed := ParseVersion(tt.out)
		if v != tt.version || parsed != tt.parsed {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q, %v", tt.out, v, parsed, tt.version, tt.parsed)
		}
		if parsed && Supported(v) != tt.ok {
			t.Errorf("Supported(%q) = %v, want %v", v, !tt.ok, tt.ok)
		}
	}
}

func TestBase(t *testing.T) {
	tests := []struct{ env, file, want string }{
		{"", "", DefaultBase},
		{"", "http://127.0.0.1:8080/z/", "http://127.0.0.1:8080/z"},
		{"http://env", "http://file", "http://env"},
		{"  ", "http://file", "http://file"},
	}
	for _, tt := range tests {
		if got := Base(tt.env, tt.file); got != tt.want {
			t.Errorf("Base(%q, %q) = %q, want %q", tt.env, tt.file, got, tt.want)
		}
	}
	a := Asset{Target: "x86_64-unknown-linux-musl", Base: DefaultBase}
	if want := "https://github.com/zellij-org/zellij/releases/download/v" + Version + "/zellij-x86_64-unknown-linux-musl.tar.gz"; a.TarballURL() != want {
		t.Errorf("TarballURL = %q, want %q", a.TarballURL(), want)
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name     string
		total, n int64
		elapsed  time.Duration
		want     string
	}{
		{"just started", 40 << 20, 1 << 20, 0, "sysvm: zellij 1.0 MiB of 40.0 MiB"},
		{"known size", 40 << 20, 10 << 20, 2 * time.Second, "sysvm: zellij 10.0 MiB of 40.0 MiB, 5.0 MiB/s, 6s left"},
		{"unknown size", -1, 3 << 10, 3 * time.Second, "sysvm: zellij 3.0 KiB, 1.0 KiB/s"},
		{"bytes", 100, 100, time.Second, "sysvm: zellij 100 B of 100 B, 100 B/s"},
	}
	for _, tt := range tests {
		p := &progress{total: tt.total, n: tt.n}
		got := "sysvm: " + p.line(tt.elapsed) // the prefix ui adds
		if got != tt.want {
			t.Errorf("%s: line = %q, want %q", tt.name, got, tt.want)
		}
		if len(got) > 79 {
			t.Errorf("%s: line is %d columns, it would wrap", tt.name, len(got))
		}
	}
}

// Off a terminal a download prints a line per quarter, none at the end,
// and what it downloaded; with --quiet nothing.
func TestProgressQuarters(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		u, _, out, errOut := uitest.New()
		u.Quiet = quiet
		c := &Cache{UI: u}
		p := c.progress("zellij.tar.gz", 100)
		for i := 0; i < 10; i++ {
			p.add(10)
		}
		p.done(true)
		want := "sysvm: downloading zellij " + Version + " from zellij.tar.gz\n" +
			"sysvm: zellij 30 B of 100 B\nsysvm: zellij 50 B of 100 B\nsysvm: zellij 80 B of 100 B\n" +
			"sysvm: downloaded 100 B in 0s\n"
		if quiet {
			want = ""
		}
		if errOut.String() != want || out.Len() > 0 {
			t.Errorf("quiet=%v: stderr %q, stdout %q; want stderr %q", quiet, errOut, out, want)
		}
	}
}
