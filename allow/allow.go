// Package allow is sysvm's allow step, like `direnv allow`: it records, in
// sysvm's state directory, a hash of each project file that steers what
// sysvm does (sysvm.yaml, a .lima/config.yaml sysvm did not write, the
// layout) as the project was loaded, and says which of them changed since
// the user allowed them; beside them, the hash of the Lima config sysvm
// last wrote into the project. It owns those records only: it never
// prints and never asks.
package allow

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/sysvm/sysvm/display"
	"github.com/sysvm/sysvm/project"
	"github.com/sysvm/sysvm/state"
)

// File is one project file that needs allowing, as it is now.
type File struct {
	// Rel is the path relative to the project directory.
	Rel string
	// Sum is the SHA-256 of its contents, in hex.
	Sum string
}

// needing returns the project's files that need allowing, as they were
// read when the project was loaded (project.Snapshot): sysvm.yaml unless it
// sets nothing, the Lima config unless it is one sysvm wrote there (see
// Generated), and the layout file. A project with none of them needs no
// allow. r is the project's record.
func needing(p *project.Project, r record) []File {
	var out []File
	add := func(rel string, b []byte) {
		out = append(out, File{Rel: rel, Sum: sum(b)})
	}
	// A sysvm.yaml that sets nothing (empty, or comments only) only
	// marks the project.
	if p.Snap.YAML != nil && !reflect.ValueOf(p.File).IsZero() {
		add(project.FileName, p.Snap.YAML)
	}
	if b := p.Snap.LimaConfig; b != nil && !r.generated(sum(b)) {
		add(project.LimaConfigPath, b)
	}
	if p.Snap.LayoutRel != "" {
		add(p.Snap.LayoutRel, p.Snap.Layout)
	}
	return out
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// IsGenerated reports whether b is the Lima config sysvm last wrote into
// the project in dir (see Generated).
func IsGenerated(sd state.Dir, dir string, b []byte) bool {
	return load(sd, dir).generated(sum(b))
}

// Generated records that sysvm itself wrote b as the Lima config of the
// project in dir: while the file holds exactly these bytes it needs no
// allowing. Only this record makes a config sysvm's own; a stamp in the
// file proves nothing, since anyone can compute one.
func Generated(sd state.Dir, dir string, b []byte) error {
	r := load(sd, dir)
	if r.Generated == sum(b) {
		return nil
	}
	r.Previous, r.Generated = r.Generated, sum(b)
	return save(sd, r)
}

// record is what the state directory keeps per project.
type record struct {
	Dir   string            `json:"dir"`
	Files map[string]string `json:"files"`
	// Generated is the SHA-256 of the Lima config sysvm last wrote into
	// the project, and Previous the one before it (a sysvm that loaded
	// the project just before a regeneration still finds its file sysvm's).
	Generated string `json:"generated,omitempty"`
	Previous  string `json:"previous,omitempty"`
}

// generated reports whether sum is one of the configs sysvm last wrote.
func (r record) generated(sum string) bool {
	return sum != "" && (sum == r.Generated || sum == r.Previous)
}

func recordPath(sd state.Dir, dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return sd.Path("allowed", hex.EncodeToString(sum[:16])+".json")
}

func load(sd state.Dir, dir string) record {
	r := record{Dir: dir, Files: map[string]string{}}
	b, err := os.ReadFile(recordPath(sd, dir))
	if err != nil {
		return r
	}
	var have record
	if json.Unmarshal(b, &have) == nil && have.Dir == dir && have.Files != nil {
		return have
	}
	return r
}

// NotAllowedError lists the project files that are new or changed since
// the user last allowed them, and what they make sysvm do beyond the
// project.
type NotAllowedError struct {
	Dir string
	// New are files never allowed; Changed, files changed since.
	New, Changed []string
	// Reach lists what the files ask for (see Reach); Risky names the
	// items that reach beyond the project (see Risky).
	Reach, Risky []string
}

func (e *NotAllowedError) Error() string {
	var parts []string
	if len(e.New) > 0 {
		parts = append(parts, lines(e.New)+" not allowed yet")
	}
	if len(e.Changed) > 0 {
		parts = append(parts, lines(e.Changed)+" changed since you allowed it")
	}
	msg := fmt.Sprintf("%s: %s; sysvm uses a project's files only once you allow them", e.Dir, strings.Join(parts, "; "))
	if len(e.Reach) > 0 {
		msg += "\nthey ask for:\n  " + strings.Join(e.Reach, "\n  ")
	}
	return msg
}

// lines joins file names, each made safe to show on one line.
func lines(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = display.Line(n)
	}
	return strings.Join(out, ", ")
}

// Hints says how to allow the files.
func (e *NotAllowedError) Hints() []string {
	return []string{"read them, then: sysvm allow " + e.Dir}
}

// Check returns a *NotAllowedError when a file of p that needs allowing
// (see Files) is new or changed since the user allowed it, else nil.
func Check(sd state.Dir, p *project.Project) error {
	r := load(sd, p.Dir)
	fs := needing(p, r)
	e := &NotAllowedError{Dir: p.Dir}
	for _, f := range fs {
		switch sum, ok := r.Files[f.Rel]; {
		case !ok:
			e.New = append(e.New, f.Rel)
		case sum != f.Sum:
			e.Changed = append(e.Changed, f.Rel)
		}
	}
	if len(e.New)+len(e.Changed) == 0 {
		return nil
	}
	e.Reach, e.Risky = Reach(p, fs), Risky(p, fs)
	return e
}

// Allow records the project's files as they are now (see Files) and
// returns them; files that no longer exist are dropped from the record.
func Allow(sd state.Dir, p *project.Project) ([]File, error) {
	r := load(sd, p.Dir)
	fs := needing(p, r)
	r.Files = map[string]string{}
	for _, f := range fs {
		r.Files[f.Rel] = f.Sum
	}
	return fs, save(sd, r)
}

// Contents records the given contents of files of the project in dir as
// allowed, keeping what was allowed before: `sysvm init` allows the files
// it has just written. dir is named as project discovery names it:
// absolute, links resolved.
func Contents(sd state.Dir, dir string, files map[string][]byte) error {
	if len(files) == 0 {
		return nil
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	r := load(sd, dir)
	for rel, b := range files {
		r.Files[filepath.ToSlash(rel)] = sum(b)
	}
	return save(sd, r)
}

func save(sd state.Dir, r record) error {
	if _, err := sd.MkdirAll("allowed"); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := state.WriteFile(recordPath(sd, r.Dir), append(b, '\n')); err != nil {
		return fmt.Errorf("recording what you allowed in %s: %w", r.Dir, err)
	}
	return nil
}

// item is one thing the project's files ask for: a line of the listing,
// and, for what reaches beyond the project, the short name repeated
// before the question.
type item struct {
	line, risky string
}

// items lists what the project's files ask for. Every value taken from a
// file goes through display.Line: one line, escaped, capped, so a crafted
// value can neither push other lines off the screen nor forge them.
func items(p *project.Project, fs []File) []item {
	f := p.File
	v := display.Line
	var out []item
	add := func(risky, format string, args ...any) {
		out = append(out, item{line: fmt.Sprintf(format, args...), risky: risky})
	}
	if f.ForwardAgent {
		add("forwardAgent", "forwardAgent: your SSH agent is usable inside the VM while you are attached")
	}
	if f.Provision != "" {
		add("provision", "provision: a script run as root in the VM at every boot")
	}
	if f.Image != "" {
		add("image", "image: the VM boots from %s (its contents are not covered by allow)", v(f.Image))
	}
	if f.Zellij.URL != "" {
		add("zellij.url", "zellij.url: Zellij downloaded from %s", v(f.Zellij.URL))
	}
	if f.Zellij.Path != "" {
		add("zellij.path", "zellij.path: the VM's %s runs as your session", v(f.Zellij.Path))
	}
	if keys := limaKeys(f); len(keys) > 0 {
		for i, k := range keys {
			keys[i] = v(k)
		}
		add("lima: "+strings.Join(keys, ", "), "lima: %s (Lima settings: mounts of host directories, copyToHost, provision scripts, port forwards ...)", strings.Join(keys, ", "))
		if writableMount(f) {
			add("a writable mount", "lima: mounts: a host directory is writable from the VM")
		}
	}
	for _, fl := range fs {
		switch fl.Rel {
		case project.LimaConfigPath:
			add(project.LimaConfigPath, "%s: your own Lima config, used as it is (its mounts, provision scripts and copies to the host)", project.LimaConfigPath)
		case project.FileName:
		default:
			add(v(fl.Rel), "%s: a Zellij layout (it runs the commands it names in the VM)", v(fl.Rel))
		}
	}
	if f.Name != "" {
		add("", "name: the VM %s%s and the Zellij session %s", v(f.Name), project.VMSuffix, v(f.Name))
	}
	if len(f.Ports) > 0 {
		ports := make([]string, len(f.Ports))
		for i, pt := range f.Ports {
			ports[i] = v(pt)
		}
		add("", "ports: host ports forwarded to the VM: %s", v(strings.Join(ports, ", ")))
	}
	if f.Zellij.SHA256 != "" {
		add("", "zellij.sha256: Zellij installed only with sha256 %s", v(f.Zellij.SHA256))
	}
	return out
}

// Reach lists, in words and one line each, what the project's files ask
// for: first what makes sysvm act beyond the project directory (the
// settings a user should read before allowing), then the VM's name, its
// ports and a pinned Zellij digest.
func Reach(p *project.Project, fs []File) []string {
	var out []string
	for _, it := range items(p, fs) {
		out = append(out, it.line)
	}
	return out
}

// Risky names, briefly, the items of Reach that reach beyond the project
// (the SSH agent, root scripts, host mounts, downloads, an own Lima config,
// a layout): what a prompt repeats right before its question.
func Risky(p *project.Project, fs []File) []string {
	var out []string
	for _, it := range items(p, fs) {
		if it.risky != "" {
			out = append(out, it.risky)
		}
	}
	return out
}

// writableMount reports whether the lima: block mounts a host directory
// writable.
func writableMount(f project.File) bool {
	for i := 0; i+1 < len(f.Lima.Content); i += 2 {
		if f.Lima.Content[i].Value != "mounts" {
			continue
		}
		for _, m := range f.Lima.Content[i+1].Content {
			for j := 0; j+1 < len(m.Content); j += 2 {
				if m.Content[j].Value == "writable" && m.Content[j+1].Value == "true" {
					return true
				}
			}
		}
	}
	return false
}

// limaKeys returns the top-level keys under `lima:`, sorted.
func limaKeys(f project.File) []string {
	var keys []string
	for i := 0; i+1 < len(f.Lima.Content); i += 2 {
		keys = append(keys, f.Lima.Content[i].Value)
	}
	sort.Strings(keys)
	return keys
}

// Pending names the files of p that wait for `sysvm allow`, each marked
// "(new)" or "(changed)"; a check that failed for another reason is named
// by its error. Status shows them instead of refusing.
func Pending(sd state.Dir, p *project.Project) []string {
	err := Check(sd, p)
	var na *NotAllowedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &na):
		var out []string
		for _, f := range na.New {
			out = append(out, f+" (new)")
		}
		for _, f := range na.Changed {
			out = append(out, f+" (changed)")
		}
		return out
	}
	return []string{err.Error()}
}
