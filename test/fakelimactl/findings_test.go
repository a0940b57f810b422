package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/lab"
)

// halfDeletedLab is a lab of Lima version v with a stopped instance "ok"
// and "half", an instance directory without lima.yaml.
func halfDeletedLab(t *testing.T, v string) *lab.Lab {
	t.Helper()
	l := lab.New(t, lab.LimaVersion(v))
	l.MustLimactl("create", "--name=ok", l.WriteLimaYAML("ok", ""))
	if err := os.Mkdir(l.InstanceDir("half"), 0o700); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestPersonalityHalfDeleted: an instance directory without lima.yaml
// beside a healthy instance. Up to 2.1 the network check of start, stop
// and delete fails over it; 2.2 skips it there, and refuses to delete it.
func TestPersonalityHalfDeleted(t *testing.T) {
	for _, tc := range versions {
		t.Run(tc.v, func(t *testing.T) {
			l := halfDeletedLab(t, tc.v)
			openErr := "open " + l.InstanceDir("half") + "/lima.yaml: no such file or directory"
			if !tc.backquotes {
				for _, args := range [][]string{{"start", "--tty=false", "ok"}, {"stop", "-f", "ok"}} {
					res := l.Limactl(args...)
					if res.ExitCode != 1 || fatalMsg(t, res.Stderr) != openErr {
						t.Errorf("≤2.1 %s beside a half-deleted instance fails in the network check: %s", args[0], res)
					}
				}
				res := l.Limactl("delete", "--tty=false", "half")
				if res.ExitCode != 1 || !strings.Contains(res.Stderr, `level=warning msg="Ignoring non-existent instance \"half\""`) || fatalMsg(t, res.Stderr) != openErr {
					t.Errorf("≤2.1 delete of the half-deleted instance warns, then fails in the network check: %s", res)
				}
			} else {
				res := l.MustLimactl("start", "--tty=false", "ok")
				if !strings.Contains(res.Stderr, "Skipping instance `half` during network reconcile") {
					t.Errorf("2.2 start skips it: %s", res)
				}
				l.MustLimactl("stop", "ok")
				res = l.Limactl("delete", "--tty=false", "half")
				if res.ExitCode != 1 || !strings.HasPrefix(fatalMsg(t, res.Stderr), "instance `half` directory `"+l.InstanceDir("half")+"` exists but its `lima.yaml` could not be read; it was NOT deleted") {
					t.Errorf("2.2 delete of the half-deleted instance is refused: %s", res)
				}
			}
			if _, err := os.Stat(l.InstanceDir("half")); err != nil {
				t.Errorf("the half-deleted directory went: %v", err)
			}
			if err := os.Remove(l.InstanceDir("half")); err != nil {
				t.Fatal(err)
			}
			l.MustLimactl("delete", "--tty=false", "ok")
		})
	}
}

// TestPersonalityPlainProgress: with --progress, 2.x's READY waits for
// cloud-init's "completed" event, which a plain guest's host agent never
// sends: limactl start waits out its timeout and exits 0 without READY.
func TestPersonalityPlainProgress(t *testing.T) {
	l := lab.New(t, lab.LimaVersion("2.2.0"))
	began := time.Now()
	res := l.MustLimactl("start", "--tty=false", "--progress", "--timeout=3s", "--name=p", l.WriteLimaYAML("p", "plain: true\n"))
	if took := time.Since(began); took < 3*time.Second || strings.Contains(res.Stderr, "READY") || strings.Contains(res.Stderr, "Cloud-init") {
		t.Errorf("start --progress of a plain instance took %s:\n%s", took, res.Stderr)
	}
	if got := one(t, l, "p")["status"]; got != "Running" {
		t.Errorf("status = %v", got)
	}
	l.MustLimactl("stop", "-f", "p")
}

// TestPersonalityRefusesRoot: as root (with FAKELIMA_REFUSE_ROOT=1), 2.x
// refuses every command, --version included; 1.2.2 all but --version.
func TestPersonalityRefusesRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	for _, tc := range versions {
		t.Run(tc.v, func(t *testing.T) {
			l := lab.New(t, lab.LimaVersion(tc.v))
			l.Setenv("FAKELIMA_REFUSE_ROOT=1")
			res := l.Limactl("--version")
			if tc.two != (res.ExitCode == 1 && res.Stderr == "limactl: must not run as the root user\n") || !tc.two && res.ExitCode != 0 {
				t.Errorf("--version as root: %s", res)
			}
			res = l.Limactl("list", "--json")
			want := "limactl: must not run as the root user\n"
			if !tc.two {
				want = ""
			}
			if res.ExitCode != 1 || tc.two && res.Stderr != want || !tc.two && fatalMsg(t, res.Stderr) != "must not run as the root user" {
				t.Errorf("list as root: %s", res)
			}
		})
	}
}

// TestEdit: `limactl edit --tty=false --set` changes a stopped instance's
// settings, refuses a running one and a shrinking disk, and says when
// nothing changes.
func TestEdit(t *testing.T) {
	for _, v := range []string{"1.2.2", "2.2.0"} {
		t.Run(v, func(t *testing.T) {
			l := lab.New(t, lab.LimaVersion(v))
			l.MustLimactl("create", "--name=e", l.WriteLimaYAML("e", ""))
			script := "#!/bin/sh\necho \"a|b\" | tr a b\n"
			l.MustLimactl("edit", "--tty=false", "--set",
				`.cpus = 4 | .disk = "20GiB" | .env = {"A": "x y"} | .provision = [{"mode": "user", "script": "`+strings.ReplaceAll(script, `"`, `\"`)+`"}] | del(.memory)`, "e")
			inst := one(t, l, "e")
			cfg := inst["config"].(map[string]any)
			if inst["cpus"] != 4.0 || inst["disk"] != 20.0*(1<<30) || cfg["env"].(map[string]any)["A"] != "x y" ||
				cfg["provision"].([]any)[0].(map[string]any)["script"] != script {
				t.Errorf("after edit: cpus %v disk %v env %v provision %v", inst["cpus"], inst["disk"], cfg["env"], cfg["provision"])
			}
			res := l.MustLimactl("edit", "--tty=false", "--set", ".cpus = 4", "e")
			if !strings.Contains(res.Stderr, "Aborting, no changes made to the instance") {
				t.Errorf("an edit that changes nothing: %s", res)
			}
			res = l.Limactl("edit", "--tty=false", "--set", `.disk = "5GiB"`, "e")
			if res.ExitCode != 1 || !strings.Contains(fatalMsg(t, res.Stderr), "field `disk`: shrinking the disk (20GiB --> 5GiB) is not supported") {
				t.Errorf("a shrinking disk: %s", res)
			}
			if _, err := os.Stat(l.WorkDir + "/lima.REJECTED.yaml"); err != nil {
				t.Errorf("the rejected buffer was not saved: %v", err)
			}
			l.MustLimactl("start", "--tty=false", "e")
			res = l.Limactl("edit", "--tty=false", "--set", ".cpus = 1", "e")
			if res.ExitCode != 1 || fatalMsg(t, res.Stderr) != "cannot edit a running instance" {
				t.Errorf("edit of a running instance: %s", res)
			}
			l.MustLimactl("stop", "e")
		})
	}
}
