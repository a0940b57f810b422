package nixtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var vendorHashRE = regexp.MustCompile(`vendorHash = "sha256-[A-Za-z0-9+/=]+";`)

// TestVendorHash recomputes flake.nix's vendorHash the way nixpkgs'
// buildGoModule fetches the modules: `go mod vendor` in the package's src
// (as the flake filters it), then the NAR hash of vendor/. It then builds
// sysvm from that src and vendor/ with the network off, as the real build
// does. With -update it rewrites the hash in flake.nix.
//
// It needs the Go module proxy, or the modules in the module cache.
func TestVendorHash(t *testing.T) {
	f := setup(t)
	ov := f.override()
	src := strings.TrimSpace(run(t, f.copy, nil, "nix", append([]string{"eval", "--raw", ".#packages.x86_64-linux.default.src"}, ov...)...))
	declared := strings.TrimSpace(run(t, f.copy, nil, "nix", append([]string{"eval", "--raw", ".#packages.x86_64-linux.default.vendorHash"}, ov...)...))

	work := filepath.Join(t.TempDir(), "src")
	if out, err := exec.Command("cp", "-r", src, work).CombinedOutput(); err != nil {
		t.Fatalf("copying %s: %v\n%s", src, err, out)
	}
	exec.Command("chmod", "-R", "u+w", work).Run()
	for _, p := range []string{"flake.nix", "test", "lib", "docs"} {
		if _, err := os.Stat(filepath.Join(work, p)); err == nil {
			t.Errorf("the package's src holds %s; the filter in flake.nix should leave it out", p)
		}
	}

	goEnv := func(extra ...string) []string {
		return append([]string{"GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "GO111MODULE=on"}, extra...)
	}
	run(t, work, goEnv(), "go", "mod", "vendor")
	got := strings.TrimSpace(run(t, work, nil, "nix", "hash", "path", "--sri", "--type", "sha256", filepath.Join(work, "vendor")))

	if got != declared {
		if *update {
			flake := filepath.Join(f.root, "flake.nix")
			b, err := os.ReadFile(flake)
			if err != nil {
				t.Fatal(err)
			}
			if !vendorHashRE.Match(b) {
				t.Fatalf("no `vendorHash = \"sha256-...\";` line in %s", flake)
			}
			b = vendorHashRE.ReplaceAll(b, []byte(`vendorHash = "`+got+`";`))
			if err := os.WriteFile(flake, b, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("flake.nix: vendorHash = %q (was %q)", got, declared)
		} else {
			t.Errorf("flake.nix declares vendorHash %q, but the modules hash to %q\n"+
				"(an import or go.mod changed; go test ./test/nix -run VendorHash -update rewrites it)", declared, got)
		}
	}

	// Build as buildGoModule does: vendored modules only, no network.
	bin := filepath.Join(t.TempDir(), "sysvm")
	run(t, work, goEnv("GOFLAGS=-mod=vendor", "GOPROXY=off", "GOSUMDB=off"),
		"go", "build", "-trimpath", "-ldflags", "-X github.com/sysvm/sysvm/cmd/sysvm/cli.Version=nixtest", "-o", bin, "./cmd/sysvm")
	if out := run(t, work, nil, bin, "version"); strings.TrimSpace(out) != "sysvm nixtest" {
		t.Errorf("sysvm version printed %q", out)
	}
}
