package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// editAction models `limactl edit --tty=false --set EXPR NAME` for an
// instance (Lima v1.2.2 and v2.2.0 cmd/limactl/edit.go): a running instance
// is refused (v1.2.2 :61-63, v2.2.0 :68-70); an expression that changes
// nothing aborts (v1.2.2 :113, v2.2.0 :128); the result is validated,
// a shrinking disk refused and the buffer saved as lima.REJECTED.yaml in
// the working directory (v1.2.2 :124, pkg/limayaml/validate.go:643-645;
// v2.2.0 :162, validate.go:724-727, saveRejectedYAML :226-233); the instance
// is not started (v1.2.2 :136-139; v2.2.0 :179-191 without --start).
// Deviations: EXPR is the subset of yq sysvm writes (`.key = LITERAL` and
// `del(.key)` joined by " | ", see parseSetExpr); the file is rewritten
// from its parsed form, so comments and key order are lost; without --set
// (an editor) it fails; a file path instead of a name is not supported.
func editAction(f *parsedFlags) error {
	name, err := instanceArg(f)
	if err != nil {
		return err
	}
	if err := validateInstName(name); err != nil {
		return fmt.Errorf("fakelimactl: editing a file (%s) is not supported", name)
	}
	inst, err := inspect(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("instance %s not found", q(name))
		}
		return err
	}
	if inst.Status == statusRunning {
		return errors.New("cannot edit a running instance")
	}
	if f.bool("start") {
		return errors.New("fakelimactl: edit --start is not supported")
	}
	if !f.changed["set"] {
		return errors.New("fakelimactl: edit without --set (an editor) is not supported")
	}
	ops, err := parseSetExpr(f.str("set"))
	if err != nil {
		return err
	}
	path := filepath.Join(inst.Dir, fnLimaYAML)
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(old, &doc); err != nil {
		return err
	}
	if doc == nil {
		doc = map[string]any{}
	}
	for _, op := range ops {
		if op.del {
			delete(doc, op.key)
		} else {
			doc[op.key] = op.value
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	var before map[string]any
	_ = yaml.Unmarshal(old, &before)
	if bytes.Equal(out, old) || equalYAML(before, doc) {
		infof("Aborting, no changes made to the instance")
		return nil
	}
	y, err := parseLimaYAML(out, path)
	if err != nil {
		return err
	}
	if err := validateLimaYAML(y); err != nil {
		return saveRejectedYAML(out, err)
	}
	if err := checkDiskNotShrunk(old, y); err != nil {
		return saveRejectedYAML(out, err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return err
	}
	infof("Instance %s configuration edited", q(name))
	return nil
}

// equalYAML compares two decoded documents by their YAML encoding.
func equalYAML(a, b map[string]any) bool {
	x, err1 := yaml.Marshal(a)
	y, err2 := yaml.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// checkDiskNotShrunk mirrors limayaml.ValidateAgainstLatestConfig: the disk
// may grow, never shrink; a side without disk is not compared.
func checkDiskNotShrunk(old []byte, n *limaYAML) error {
	l, err := parseLimaYAML(old, "")
	if err != nil || l.Disk == nil || n.Disk == nil {
		return err
	}
	nDisk, err1 := ramInBytes(*n.Disk)
	lDisk, err2 := ramInBytes(*l.Disk)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if nDisk < lDisk {
		return fmt.Errorf("field `disk`: shrinking the disk (%v --> %v) is not supported", *l.Disk, *n.Disk)
	}
	return nil
}

// saveRejectedYAML mirrors cmd/limactl/edit.go's: the buffer goes to
// lima.REJECTED.yaml in the working directory.
func saveRejectedYAML(y []byte, origErr error) error {
	const rejected = "lima.REJECTED.yaml"
	if err := os.WriteFile(rejected, y, 0o644); err != nil {
		return fmt.Errorf("the YAML is invalid, attempted to save the buffer as %s but failed: %w", q(rejected), errors.Join(err, origErr))
	}
	return fmt.Errorf("the YAML is invalid, saved the buffer as %s: %w", q(rejected), origErr)
}
