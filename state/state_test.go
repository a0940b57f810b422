package state

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestWriteFileAtomicAndPrivate(t *testing.T) {
	d := Dir(filepath.Join(t.TempDir(), "sysvm"))
	dir, err := d.MkdirAll("projects")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "x.json")
	if err := WriteFile(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("content = %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", st.Mode().Perm())
	}
	for _, q := range []string{string(d), dir} {
		if st, _ := os.Stat(q); st.Mode().Perm() != 0o700 {
			t.Errorf("%s mode = %v, want 0700", q, st.Mode().Perm())
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}

	// A reader never sees a partial file while a large one is rewritten
	// over and over: each read is one whole version or the other.
	versions := [][]byte{bytes.Repeat([]byte("a"), 256<<10), bytes.Repeat([]byte("b"), 256<<10)}
	if err := WriteFile(p, versions[0]); err != nil {
		t.Fatal(err)
	}
	var reads atomic.Int64
	done := make(chan struct{})
	bad := make(chan string, 1)
	go func() {
		defer close(bad)
		for {
			select {
			case <-done:
				return
			default:
			}
			b, err := os.ReadFile(p)
			reads.Add(1)
			if err != nil || (!bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1])) {
				bad <- fmt.Sprintf("read %d bytes, %v", len(b), err)
				return
			}
		}
	}()
	for i := 1; i < 100 || reads.Load() < 100; i++ {
		if err := WriteFile(p, versions[i%2]); err != nil {
			t.Fatal(err)
		}
		if len(bad) > 0 {
			break
		}
	}
	close(done)
	if why, ok := <-bad; ok {
		t.Errorf("a reader saw a partial file: %s", why)
	}
}

func TestRecords(t *testing.T) {
	d := Dir(t.TempDir())
	for _, r := range []Record{{Name: "b", VM: "b-dev", Dir: "/p/b"}, {Name: "a", VM: "a-dev", Dir: "/p/a", Ports: []int{3000}}} {
		if err := d.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(d.Path("projects", "broken.json"), []byte("{not json"), 0o600)
	recs, err := d.Records()
	if err != nil || len(recs) != 2 || recs[0].Name != "a" || recs[0].Ports[0] != 3000 {
		t.Fatalf("Records = %+v, %v (want a and b, the broken file skipped)", recs, err)
	}
	if err := d.Forget("a-dev"); err != nil {
		t.Fatal(err)
	}
	if recs, _ := d.Records(); len(recs) != 1 {
		t.Errorf("after Forget: %+v", recs)
	}
}

func TestLockVMExcludes(t *testing.T) {
	d := Dir(t.TempDir())
	l1, err := d.LockVM("x-dev")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		l2, err := d.LockVM("x-dev")
		if err == nil {
			l2.Unlock()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a second lock was granted while the first was held")
	case <-time.After(200 * time.Millisecond):
	}
	// Another VM's lock is independent.
	l3, err := d.LockVM("y-dev")
	if err != nil {
		t.Fatal(err)
	}
	l3.Unlock()
	l1.Unlock()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the second lock was not granted after unlock")
	}
}

func TestHostKeys(t *testing.T) {
	d := Dir(t.TempDir())
	if _, ok, err := d.HostKey("v"); ok || err != nil {
		t.Fatalf("fresh: ok=%v err=%v", ok, err)
	}
	d.PinHostKey("v", "ssh-ed25519 AAAA\n", false)
	if k, ok, _ := d.HostKey("v"); !ok || k != "ssh-ed25519 AAAA" || d.PinnedOnFirstUse("v") {
		t.Errorf("pinned %q %v", k, ok)
	}
	d.PinHostKey("v", "ssh-ed25519 BBBB", true)
	if k, ok, _ := d.HostKey("v"); !ok || k != "ssh-ed25519 BBBB" || !d.PinnedOnFirstUse("v") {
		t.Errorf("pinned on first use: %q %v %v", k, ok, d.PinnedOnFirstUse("v"))
	}
	d.UnpinHostKey("v")
	if _, ok, _ := d.HostKey("v"); ok {
		t.Error("still pinned after unpin")
	}
	if err := d.UnpinHostKey("v"); err != nil {
		t.Errorf("unpin twice: %v", err)
	}
}

func TestResolveIsNeverRelative(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	u, err := user.Current()
	if err != nil || !filepath.IsAbs(u.HomeDir) {
		t.Skip("this user has no home in the password database")
	}
	tests := []struct {
		name   string
		getenv func(string) string
		want   string // "" means an error
	}{
		{"HOME unset falls back to the passwd entry", env(), filepath.Join(u.HomeDir, ".local/state/sysvm")},
		{"a relative HOME is not used", env("HOME", "rel"), filepath.Join(u.HomeDir, ".local/state/sysvm")},
		{"HOME", env("HOME", "/h"), "/h/.local/state/sysvm"},
		{"XDG_STATE_HOME", env("HOME", "/h", "XDG_STATE_HOME", "/s"), "/s/sysvm"},
		{"a relative XDG_STATE_HOME is ignored", env("HOME", "/h", "XDG_STATE_HOME", "s"), "/h/.local/state/sysvm"},
		{"SYSVM_STATE_DIR", env("SYSVM_STATE_DIR", "/x"), "/x"},
		{"a relative SYSVM_STATE_DIR fails", env("SYSVM_STATE_DIR", "x"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Resolve(tt.getenv)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Resolve = %q, want an error", d)
				}
				return
			}
			if err != nil || string(d) != tt.want {
				t.Fatalf("Resolve = %q, %v; want %q", d, err, tt.want)
			}
		})
	}
}
