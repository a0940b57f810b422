package lima

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/sysvm/sysvm/test/lab"
)

func TestMain(m *testing.M) { lab.Main(m) }

// TestListAgainstFake runs List and Inspect against the lab's limactl in each
// Lima personality, with an instance directory that lost its lima.yaml
// beside a healthy instance: ≤2.1 fails `limactl list` as a whole there,
// 2.2 lists it as Broken, and the messages quote names differently.
func TestListAgainstFake(t *testing.T) {
	for _, v := range []string{"1.2.2", "2.0.0", "2.1.0", "2.2.0"} {
		t.Run(v, func(t *testing.T) {
			l := lab.New(t, lab.LimaVersion(v))
			l.MustLimactl("create", "--name=ok", l.WriteLimaYAML("ok", ""))
			if err := os.Mkdir(l.InstanceDir("half"), 0o700); err != nil {
				t.Fatal(err)
			}
			t.Setenv("LIMA_HOME", l.LimaHome)
			t.Setenv("FAKELIMA_VERSION", v)
			c := &Client{Exe: l.Bin.Limactl, Dir: l.WorkDir, Home: l.LimaHome}
			ctx := context.Background()

			all, err := c.List(ctx)
			if err != nil || len(all) != 2 {
				t.Fatalf("List() = %+v, %v; want half and ok", all, err)
			}
			status := map[string]string{}
			for _, in := range all {
				status[in.Name] = in.Status
			}
			if status["half"] != StatusBroken || status["ok"] != StatusStopped {
				t.Errorf("List() statuses = %v", status)
			}
			if got, err := c.List(ctx, "ok", "nope"); err != nil || len(got) != 1 || got[0].Name != "ok" {
				t.Errorf("List(ok, nope) = %+v, %v; want ok alone", got, err)
			}
			var nf *NotFoundError
			if _, err := c.Inspect(ctx, "nope"); !errors.As(err, &nf) {
				t.Errorf("Inspect(nope) = %v, want a NotFoundError", err)
			}
			half, err := c.Inspect(ctx, "half")
			if err != nil || half.Status != StatusBroken || len(half.Problems) == 0 || half.Dir != l.InstanceDir("half") {
				t.Errorf("Inspect(half) = %+v, %v; want Broken with a problem", half, err)
			}
			if ok, err := c.Inspect(ctx, "ok"); err != nil || ok.Status != StatusStopped {
				t.Errorf("Inspect(ok) beside a broken directory = %+v, %v", ok, err)
			}
		})
	}
}
