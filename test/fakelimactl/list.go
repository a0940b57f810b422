package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"
)

// listAction mirrors cmd/limactl/list.go@v1.2.2 for the table, json, yaml
// and quiet forms. --format templates other than json/yaml/table are not
// supported.
func listAction(f *parsedFlags) error {
	format := "table"
	if f.changed["format"] {
		format = f.str("format")
	}
	if f.bool("json") {
		format = "json"
		if f.changed["format"] {
			return errors.New("option --json conflicts with option --format")
		}
	}
	if f.bool("list-fields") {
		if f.changed["format"] {
			return errors.New("option --list-fields conflicts with option --format")
		}
		names := []string{"Name", "Hostname", "Status", "Dir", "VMType", "Arch", "CPUs", "Memory", "Disk",
			"Message", "AdditionalDisks", "Networks", "SSHLocalPort", "SSHConfigFile", "HostAgentPID", "DriverPID",
			"Errors", "Config", "SSHAddress", "Protected", "LimaVersion", "Param", "HostOS", "HostArch", "LimaHome", "IdentityFile"}
		if lima.atLeast(2, 0) {
			names = append(names, "AutoStartedIdentifier")
		} else {
			names = append(names, "CPUType")
		}
		sort.Strings(names)
		fmt.Println(strings.Join(names, "\n"))
		return nil
	}
	quiet := f.bool("quiet")
	if quiet && format != "table" {
		return errors.New("option --quiet can only be used with '--format table'")
	}
	switch format {
	case "table", "json", "yaml", "{{json .}}":
	default:
		return fmt.Errorf("fakelimactl: unsupported --format %q (only table, json, yaml)", format)
	}

	home, err := limaHome()
	if err != nil {
		return err
	}
	all, err := instanceNames()
	if err != nil {
		return err
	}
	for _, n := range all {
		if _, err := os.Stat(filepath.Join(home, n, fnLimaYAML)); err != nil {
			warnf("The directory %s does not look like a valid Lima directory: %v", q(home), err)
			break
		}
	}
	args := f.args
	if len(args) == 0 && len(all) == 0 {
		warnf("No instance found. Run `limactl create` to create an instance.")
		return nil
	}
	var names []string
	unmatched := false
	if len(args) > 0 {
		for _, a := range args {
			found := false
			for _, n := range all {
				if n == a {
					names = append(names, n)
					found = true
				}
			}
			if !found {
				warnf("No instance matching %v found.", a)
				unmatched = true
			}
		}
	} else {
		names = all
	}

	if quiet {
		for _, n := range names {
			fmt.Println(n)
		}
		if unmatched {
			return errUnmatched()
		}
		return nil
	}

	var insts []*instance
	for _, n := range names {
		inst, err := inspect(n)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) || !lima.atLeast(2, 2) {
				// ≤2.1 one instance directory without lima.yaml fails the
				// whole list (lima-vm/lima#5236).
				return fmt.Errorf("unable to load instance %s: %w", n, err)
			}
			// 2.2 lists it as Broken, or skips it when the directory itself
			// is gone (Lima v2.2.0 cmd/limactl/list.go brokenInstance).
			dir := filepath.Join(home, n)
			if _, serr := os.Stat(dir); serr != nil {
				warnf("Skipping instance %s: %v (being cloned or deleted?)", q(n), err)
				if len(args) > 0 {
					unmatched = true
				}
				continue
			}
			inst = &instance{Name: n, Dir: dir, Status: statusBroken, Errors: instErrors{err}}
		}
		insts = append(insts, inst)
	}
	for _, inst := range insts {
		if len(inst.Errors) > 0 {
			var msgs []string
			for _, e := range inst.Errors {
				msgs = append(msgs, e.Error())
			}
			logLineFields("warning", fmt.Sprintf("instance %s has errors", q(inst.Name)),
				map[string]string{"errors": "[" + strings.Join(msgs, " ") + "]"})
		}
	}
	if err := printInstances(insts, format); err != nil {
		return err
	}
	if unmatched {
		return errUnmatched()
	}
	return nil
}

func printInstances(insts []*instance, format string) error {
	switch format {
	case "json", "{{json .}}":
		for _, inst := range insts {
			data, err := addGlobalFields(inst)
			if err != nil {
				return err
			}
			b, err := json.Marshal(data)
			if err != nil {
				return fmt.Errorf("failed to encode instance %q: %w", inst.Name, err)
			}
			if format == "json" && lima.atLeast(2, 0) {
				// 2.x pipes --json through yq, which deletes empty objects
				// (Lima v2.0.0 cmd/limactl/list.go); {{json .}} bypasses it.
				if b, err = dropEmptyObjects(b); err != nil {
					return err
				}
			}
			fmt.Println(string(b))
		}
	case "yaml":
		for _, inst := range insts {
			data, err := addGlobalFields(inst)
			if err != nil {
				return err
			}
			// Round-trip through JSON so the YAML uses the JSON key names.
			b, err := json.Marshal(data)
			if err != nil {
				return err
			}
			var m yaml.Node
			if err := yaml.Unmarshal(b, &m); err != nil {
				return err
			}
			out, err := yaml.Marshal(&m)
			if err != nil {
				return err
			}
			fmt.Print("---\n" + string(out))
		}
	default:
		w := tabwriter.NewWriter(os.Stdout, 4, 8, 4, ' ', 0)
		types := map[string]bool{}
		archs := map[string]bool{}
		for _, inst := range insts {
			types[inst.VMType] = true
			archs[inst.Arch] = true
		}
		hideType := len(types) == 1
		hideArch := len(archs) == 1 && insts[0].Arch == hostArch()
		fmt.Fprint(w, "NAME\tSTATUS\tSSH")
		if !hideType {
			fmt.Fprint(w, "\tVMTYPE")
		}
		if !hideArch {
			fmt.Fprint(w, "\tARCH")
		}
		fmt.Fprint(w, "\tCPUS\tMEMORY\tDISK\tDIR\n")
		homeDir, _ := os.UserHomeDir()
		for _, inst := range insts {
			dir := inst.Dir
			if homeDir != "" && strings.HasPrefix(dir, homeDir) {
				dir = strings.Replace(dir, homeDir, "~", 1)
			}
			fmt.Fprintf(w, "%s\t%s\t%s:%d", inst.Name, inst.Status, inst.SSHAddress, inst.SSHLocalPort)
			if !hideType {
				fmt.Fprintf(w, "\t%s", inst.VMType)
			}
			if !hideArch {
				fmt.Fprintf(w, "\t%s", inst.Arch)
			}
			fmt.Fprintf(w, "\t%d\t%s\t%s\t%s\n", inst.CPUs, bytesSize(float64(inst.Memory)), bytesSize(float64(inst.Disk)), dir)
		}
		return w.Flush()
	}
	return nil
}

// errUnmatched is list's error for a name that matched no instance: exit 1
// without a fatal line in 1.x (an ExitCoder), a fatal "unmatched instances"
// line in 2.x (Lima v2.0.0 cmd/limactl/list.go, pkg/osutil/exit.go).
func errUnmatched() error {
	if lima.atLeast(2, 0) {
		return errors.New("unmatched instances")
	}
	return exitCodeError(1)
}

// dropEmptyObjects does what yq's del(.. | select(tag == "!!map" and
// length == 0)) does to one compact JSON object: it deletes every empty
// object, innermost first, keeping key order.
func dropEmptyObjects(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out bytes.Buffer
	if _, err := copyPruned(dec, &out); err != nil {
		return nil, fmt.Errorf("pruning list output: %w", err)
	}
	return out.Bytes(), nil
}

// copyPruned copies the next JSON value from dec to out and reports whether
// it was written (false for an empty object, which is dropped).
func copyPruned(dec *json.Decoder, out *bytes.Buffer) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	switch tok {
	case json.Delim('{'):
		var body bytes.Buffer
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return false, err
			}
			var val bytes.Buffer
			kept, err := copyPruned(dec, &val)
			if err != nil {
				return false, err
			}
			if !kept {
				continue
			}
			if body.Len() > 0 {
				body.WriteByte(',')
			}
			k, _ := json.Marshal(key)
			body.Write(k)
			body.WriteByte(':')
			body.Write(val.Bytes())
		}
		if _, err := dec.Token(); err != nil {
			return false, err
		}
		if body.Len() == 0 {
			return false, nil
		}
		out.WriteByte('{')
		out.Write(body.Bytes())
		out.WriteByte('}')
		return true, nil
	case json.Delim('['):
		out.WriteByte('[')
		n := 0
		for dec.More() {
			var val bytes.Buffer
			kept, err := copyPruned(dec, &val)
			if err != nil {
				return false, err
			}
			if !kept {
				continue
			}
			if n > 0 {
				out.WriteByte(',')
			}
			out.Write(val.Bytes())
			n++
		}
		if _, err := dec.Token(); err != nil {
			return false, err
		}
		out.WriteByte(']')
		return true, nil
	default:
		v, err := json.Marshal(tok)
		if err != nil {
			return false, err
		}
		out.Write(v)
		return true, nil
	}
}
