package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// personality is the Lima release the fake behaves as. It is chosen per
// process by $FAKELIMA_VERSION: unset means 1.2.2 (the release the real-VM
// contract test checks the fake against); "2" means 2.2.0; otherwise one of
// the versions in supportedVersions. Behaviour that differs between releases
// asks the personality (atLeast) and cites the upstream source it follows.
type personality struct {
	major, minor, patch int
}

// supportedVersions are the releases whose differences the fake models.
var supportedVersions = []string{"1.2.2", "2.0.0", "2.1.0", "2.2.0"}

// lima is this process's personality.
var lima = mustPersonality(os.Getenv("FAKELIMA_VERSION"))

func mustPersonality(s string) personality {
	p, err := parsePersonality(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakelimactl:", err)
		os.Exit(2)
	}
	return p
}

// parsePersonality reads a $FAKELIMA_VERSION value. Patch releases of a
// supported minor (e.g. 2.1.4) behave as that minor's .0.
func parsePersonality(s string) (personality, error) {
	switch strings.TrimPrefix(s, "v") {
	case "":
		return personality{1, 2, 2}, nil
	case "2":
		return personality{2, 2, 0}, nil
	}
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	var n [3]int
	for i := range n {
		if i >= len(parts) || len(parts) > 3 {
			break
		}
		v, err := strconv.Atoi(parts[i])
		if err != nil {
			return personality{}, fmt.Errorf("FAKELIMA_VERSION=%q is not a version (want one of %s)", s, strings.Join(supportedVersions, ", "))
		}
		n[i] = v
	}
	p := personality{n[0], n[1], n[2]}
	if len(parts) != 3 || !(p == personality{1, 2, 2} || p.major == 2 && p.minor <= 2) {
		return personality{}, fmt.Errorf("FAKELIMA_VERSION=%q is not modelled (want one of %s)", s, strings.Join(supportedVersions, ", "))
	}
	return p, nil
}

// String returns the version without a "v" prefix, as `limactl --version`
// prints it.
func (p personality) String() string { return fmt.Sprintf("%d.%d.%d", p.major, p.minor, p.patch) }

// atLeast reports whether the personality is major.minor or newer.
func (p personality) atLeast(major, minor int) bool {
	return p.major > major || p.major == major && p.minor >= minor
}

// q quotes a name in a message: %q up to 2.1, %#q (backquotes) from 2.2,
// where Lima switched its messages over (e.g. Lima v2.2.0
// pkg/instance/create.go, cmd/limactl/list.go).
func q(s string) string {
	if lima.atLeast(2, 2) {
		return fmt.Sprintf("%#q", s)
	}
	return strconv.Quote(s)
}

// errNoEvent is start's and stop's timeout error; 2.2 backquotes the status
// (Lima v2.2.0 pkg/instance/start.go, pkg/instance/stop.go).
func errNoEvent(status string) error {
	if lima.atLeast(2, 2) {
		return fmt.Errorf("did not receive an event with the `%s` status", status)
	}
	return fmt.Errorf("did not receive an event with the %q status", status)
}

// sinceFlags returns the flags of subcommand sub that exist in this
// personality but not in 1.2.2.
func sinceFlags(sub string) []flagSpec {
	var out []flagSpec
	// `start --progress` is 2.0+ (Lima v2.0.0 cmd/limactl/start.go); the
	// hostagent learns it at the same time.
	if (sub == "start" || sub == "hostagent") && lima.atLeast(2, 0) {
		out = append(out, flagSpec{long: "progress", kind: boolFlag})
	}
	// `edit --start` is 2.0+ (Lima v2.0.0 cmd/limactl/edit.go:40); the
	// fake never starts from edit, so it is accepted and has no effect
	// unless true, which is refused.
	if sub == "edit" && lima.atLeast(2, 0) {
		out = append(out, flagSpec{long: "start", kind: boolFlag})
	}
	return out
}

// diskFileName is the name of the instance's disk: diffdisk up to 2.0, disk
// from 2.1 (Lima v2.1.0 pkg/limatype/filenames/filenames.go).
func diskFileName() string {
	if lima.atLeast(2, 1) {
		return "disk"
	}
	return "diffdisk"
}
