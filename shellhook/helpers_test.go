package shellhook

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Shells loading direnv at once each run `sysvm direnv-export`, which links
// the helpers: none may fail or find another's half-made link, and no
// temporary link is left behind.
func TestLinkHelpersConcurrently(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				// Alternate the target so every call replaces the links.
				exe := []string{"/a/sysvm", "/b/sysvm"}[(i+j)%2]
				if err := LinkHelpers(dir, exe); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	for name := range Helpers {
		if to, err := os.Readlink(filepath.Join(dir, name)); err != nil || !strings.HasSuffix(to, "/sysvm") {
			t.Errorf("%s -> %q, %v", name, to, err)
		}
	}
}
