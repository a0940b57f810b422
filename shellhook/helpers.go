package shellhook

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sysvm/sysvm/files"
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
		tmp, err := tempSymlink(exe, link)
		if err != nil {
			return fmt.Errorf("creating helper %s: %w", link, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("creating helper %s: %w", link, err)
		}
	}
	return nil
}

// tempSymlink makes a symlink to target beside link under a name of its
// own, so that two shells loading direnv at once never remove or rename
// each other's link, and returns its path.
func tempSymlink(target, link string) (string, error) {
	for i := 0; ; i++ {
		var r [8]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", err
		}
		tmp := filepath.Join(filepath.Dir(link), "."+filepath.Base(link)+"."+hex.EncodeToString(r[:])+".tmp")
		err := os.Symlink(target, tmp)
		if err == nil || !errors.Is(err, fs.ErrExist) || i == 9 {
			return tmp, err
		}
	}
}

// InstallDirenvrc writes the direnv library text where direnv loads it
// for every .envrc: <configHome>/direnv/lib/sysvm.sh (configHome is
// $XDG_CONFIG_HOME, default ~/.config). It returns the file's path.
func InstallDirenvrc(configHome, text string) (string, error) {
	if configHome == "" {
		home, _ := os.UserHomeDir()
		configHome = filepath.Join(home, ".config")
	}
	dir := filepath.Join(configHome, "direnv", "lib")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "sysvm.sh")
	if err := files.Replace(path, []byte(text), 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}
