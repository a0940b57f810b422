package project

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/sysvm/sysvm/hint"
	"github.com/sysvm/sysvm/lima"
)

// limaNameRE is Lima's instance-name rule (pkg/identifiers): alphanumeric
// runs joined by single '.', '_' or '-'.
var limaNameRE = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)

// slugRE is the stricter form sysvm keeps unchanged: Lima's rule in lower case.
var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

const (
	// MaxLimaName is Lima's maximum instance-name length.
	MaxLimaName = 76
	// macOSSockMax is UNIX_PATH_MAX on macOS, the smaller of the two hosts.
	// Names are sized for it everywhere so a project keeps its name on both.
	macOSSockMax = 104
	// zellijSockMax is the longest socket path Zellij accepts, in bytes.
	zellijSockMax = 107
	// zellijSockDirWorst is the longest socket directory Zellij picks in a
	// Linux guest: /run/user/<uid>/zellij/contract_version_1 for a ten-digit uid.
	zellijSockDirWorst = "/run/user/4294967295/zellij/contract_version_1"
	// VMSuffix is appended to the slug to form the VM name.
	VMSuffix = "-dev"
	// hashLen is the number of hex digits of the path hash added to changed names.
	hashLen = 8
)

// MaxSlugLen returns the longest slug that keeps both the VM's sockets under
// limaHome and the Zellij session socket within their path limits.
func MaxSlugLen(limaHome string) int {
	n := zellijSockMax - len(zellijSockDirWorst) - 1
	if m := MaxLimaName - len(VMSuffix); m < n {
		n = m
	}
	// Lima requires its longest socket path to be < UNIX_PATH_MAX.
	if m := macOSSockMax - 1 - lima.SocketPathLen(limaHome, VMSuffix); m < n {
		n = m
	}
	return n
}

// PathHash returns the short, stable hash of an absolute project path that
// sysvm appends to names it had to change.
func PathHash(absDir string) string {
	sum := sha256.Sum256([]byte(absDir))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// Slug derives the project's slug from its directory: the directory's base
// name when it is already a valid lower-case Lima name that fits, otherwise a
// cleaned-up form of it plus a hash of the absolute path, so that one
// directory always gets the same one. Slug alone does not know other
// directories: [Load] gives the hashed form to a directory whose bare name
// another directory's VM has (see [Options].Owner), so that two directories
// never share a VM.
func Slug(absDir, limaHome string) (string, error) {
	max := MaxSlugLen(limaHome)
	if max < hashLen+2 {
		return "", fmt.Errorf("LIMA_HOME %q is too long to leave room for an instance name (socket paths are limited to %d bytes)", limaHome, macOSSockMax)
	}
	base := baseName(absDir)
	if slugRE.MatchString(base) && len(base) <= max && !hasYAMLSuffix(base) {
		return base, nil
	}
	return hashedSlug(absDir, max), nil
}

// hashedSlug is the changed form of absDir's slug: its cleaned-up base
// name, cut to fit max, plus the hash of the absolute path.
func hashedSlug(absDir string, max int) string {
	clean := sanitize(baseName(absDir))
	room := max - hashLen - 1
	if len(clean) > room {
		clean = strings.TrimRight(clean[:room], "._-")
	}
	if clean == "" {
		clean = "project"
		if len(clean) > room {
			clean = clean[:room]
		}
	}
	return clean + "-" + PathHash(absDir)
}

// ownSlug is [Slug] for a directory whose bare name may be another
// directory's VM already: owner says which directory a VM belongs to ("" for
// none). The bare name stays with the directory that took it first; any
// other directory gets the hashed form, and keeps it once its VM has it,
// even after the bare name is free again.
func ownSlug(absDir, limaHome string, owner func(vm, dir string) string) (string, error) {
	slug, err := Slug(absDir, limaHome)
	if err != nil || owner == nil {
		return slug, err
	}
	hashed := hashedSlug(absDir, MaxSlugLen(limaHome))
	if slug == hashed {
		return slug, nil
	}
	switch o := owner(slug+VMSuffix, absDir); {
	case o == absDir:
		return slug, nil
	case o != "":
		return hashed, nil
	case owner(hashed+VMSuffix, absDir) == absDir:
		return hashed, nil
	}
	return slug, nil
}

// checkOwner refuses a chosen name (from says where it was chosen) whose VM
// belongs to another directory than absDir.
func checkOwner(name, from, absDir string, owner func(vm, dir string) string) error {
	if owner == nil {
		return nil
	}
	vm := name + VMSuffix
	if o := owner(vm, absDir); o != "" && o != absDir {
		return hint.Wrap(fmt.Errorf("project name %q (%s) is taken: its VM %s belongs to %s, and two directories never share a VM", name, from, vm, o),
			"pick another name for "+absDir+" (name: in "+FileName+", or --name)",
			fmt.Sprintf("or free the name: cd %s && sysvm destroy --forget", o))
	}
	return nil
}

func baseName(absDir string) string {
	s := strings.TrimRight(absDir, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// sanitize lower-cases s, folds accented Latin letters to ASCII, and turns
// every other run of characters into a single '-'.
func sanitize(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // combining mark left by NFKD: drop it, keep the base letter
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if sep && b.Len() > 0 {
				b.WriteByte('-')
			}
			sep = false
			b.WriteRune(unicode.ToLower(r))
		default:
			sep = true
		}
	}
	return b.String()
}

func hasYAMLSuffix(s string) bool {
	l := strings.ToLower(s)
	return strings.HasSuffix(l, ".yaml") || strings.HasSuffix(l, ".yml")
}

// ValidateName checks a user-chosen project name (from --name or sysvm.yaml):
// it must be usable unchanged as a Lima instance name and Zellij session name.
func ValidateName(name, limaHome string) error {
	switch {
	case name == "":
		return fmt.Errorf("project name is empty")
	case !limaNameRE.MatchString(name):
		return fmt.Errorf("project name %q is not valid: use letters, digits and single '.', '_' or '-' between them (for example %q)", name, suggest(name))
	case hasYAMLSuffix(name):
		return fmt.Errorf("project name %q must not end in .yaml or .yml", name)
	case len(name) > MaxSlugLen(limaHome):
		return fmt.Errorf("project name %q is %d characters; at most %d fit the VM's socket paths under LIMA_HOME %q", name, len(name), MaxSlugLen(limaHome), limaHome)
	}
	return nil
}

func suggest(name string) string {
	if s := sanitize(name); s != "" {
		return s
	}
	return "myproject"
}
