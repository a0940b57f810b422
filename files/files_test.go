package files

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

func TestReplace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	for _, data := range []string{"one", "two"} {
		if err := Replace(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != data {
			t.Fatalf("read %q, want %q", b, data)
		}
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", st.Mode(), err)
	}
	assertNoTemp(t, filepath.Dir(path))
}

func TestCreateNew(t *testing.T) {
	noLinks := func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EPERM} }
	for _, tt := range []struct {
		name string
		link func(string, string) error
	}{
		{"hard links", os.Link},
		// Some FUSE and network file systems refuse link(2): the exclusive
		// create must still make the file, and still never replace one.
		{"no hard links", noLinks},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			created, err := createNew(path, []byte("first"), 0o644, tt.link)
			if err != nil || !created {
				t.Fatalf("first create: created=%v err=%v", created, err)
			}
			created, err = createNew(path, []byte("second"), 0o644, tt.link)
			if err != nil || created {
				t.Fatalf("second create: created=%v err=%v, want false, nil", created, err)
			}
			if b, _ := os.ReadFile(path); string(b) != "first" {
				t.Fatalf("file holds %q, want the first write", b)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want 0644", st.Mode())
			}
			assertNoTemp(t, dir)
		})
	}
}

// TestCreateNewRace: of many concurrent creators exactly one wins, and the
// file holds its data whole.
func TestCreateNewRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ok, err := CreateNew(path, []byte{byte('a' + i)}, 0o644)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d creators won, want 1", winners)
	}
}

func TestCreateNewUnwritableDir(t *testing.T) {
	_, err := CreateNew(filepath.Join(t.TempDir(), "missing", "f"), nil, 0o644)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "f" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second time it is gone already
		if err := Remove(path); err != nil {
			t.Fatalf("Remove #%d: %v", i+1, err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", path, err)
	}
	// Any other failure is an error: here a directory that is not empty.
	if err := Remove(filepath.Dir(filepath.Dir(path))); err == nil {
		t.Error("Remove of a non-empty directory: want an error")
	}
}
