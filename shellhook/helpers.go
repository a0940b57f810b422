package shellhook

import (
	"fmt"
	"os"
	"path/filepath"
)

// LinkHelpers makes dir hold one symlink per command in [Helpers], each
// pointing at exe (sysvm, which dispatches on the name it was run as).
// Links already right are left alone; each one is replaced by rename, so a
// shell that runs a helper meanwhile never finds it missing.
func LinkHelpers(dir, exe string) error {
	for name := range Helpers {
		link := filepath.Join(dir, name)
		if cur, err := os.Readlink(link); err == nil && cur == exe {
			continue
		}
		tmp := link + ".tmp"
		_ = os.Remove(tmp)
		if err := os.Symlink(exe, tmp); err != nil {
			return fmt.Errorf("creating helper %s: %w", link, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			return fmt.Errorf("creating helper %s: %w", link, err)
		}
	}
	return nil
}
