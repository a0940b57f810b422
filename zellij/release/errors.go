package release

import "fmt"

// The settings a user can change, named the same way in every hint.
const (
	urlSetting     = "zellij.url in sysvm.yaml, or SYSVM_ZELLIJ_URL"
	installSetting = "`zellij: {install: false}` in sysvm.yaml"
)

// ArchError is a guest whose machine has no Zellij release asset.
type ArchError struct{ Machine string }

func (e *ArchError) Error() string {
	return fmt.Sprintf("zellij %s has no Linux release for the VM's architecture %q (only x86_64 and aarch64)", Version, e.Machine)
}

// Hints says what to do instead.
func (e *ArchError) Hints() []string {
	return []string{
		"install a zellij " + MinVersion + " or newer in the VM yourself (e.g. with `provision:` in sysvm.yaml) and set zellij.path if it is not on PATH",
		"or skip installation with " + installSetting,
	}
}

// FetchError is a release asset that could not be downloaded.
type FetchError struct {
	// URL is the asset that failed.
	URL string
	// Dir is where a hand-downloaded copy of the asset is picked up.
	Dir string
	// Asset is the pair the URL belongs to.
	Asset Asset
	Err   error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("downloading zellij %s: %s: %v", Version, e.URL, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Hints names the ways around a failed download.
func (e *FetchError) Hints() []string {
	return []string{
		"without network access, download " + e.Asset.TarballURL() + " and " + e.Asset.SumURL() + " elsewhere and put both files in " + e.Dir,
		"or serve them from a mirror: " + urlSetting + " names the directory that holds them",
		"or use a zellij already in the VM and skip installation with " + installSetting,
	}
}

// VerifyError is a downloaded binary that does not match a digest it must
// match. Nothing of it is kept.
type VerifyError struct {
	// Source is what the binary came from (an URL or a file).
	Source string
	// Want is the digest it had to have, and WantFrom where that came from.
	Want, WantFrom string
	// Got is the digest of the binary received.
	Got string
	// Pinned is true when Want is the user's own pin (zellij.sha256).
	Pinned bool
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("zellij %s from %s failed verification: its sha256 is %s, but %s says %s", Version, e.Source, e.Got, e.WantFrom, e.Want)
}

// Hints says what to check.
func (e *VerifyError) Hints() []string {
	if e.Pinned {
		return []string{
			"the binary is not the one sysvm.yaml pins: check zellij.sha256 against the digest Zellij publishes for " + Version + ", and the source (" + urlSetting + ")",
		}
	}
	return []string{
		"the download was corrupted or altered; try again, and if it persists check the mirror (" + urlSetting + ")",
	}
}

// ChangedError is a release whose digest differs from the one sysvm
// recorded the first time it saw it: a release asset should never change.
type ChangedError struct {
	// Target is the asset's target; Key is its entry in Recorded, the
	// state file.
	Target, Key, Recorded string
	// Was is the recorded digest; Now is the one served now.
	Was, Now string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("zellij %s for %s changed since sysvm first saw it: the recorded sha256 is %s, the release now says %s; refusing to use it", Version, e.Target, e.Was, e.Now)
}

// Hints says how to proceed once the user has judged the change.
func (e *ChangedError) Hints() []string {
	return []string{
		"check where the new asset comes from (" + urlSetting + ")",
		"if the change is expected, remove the entry for " + e.Key + " from " + e.Recorded,
	}
}

// ArchiveError is a tarball that is not shaped like a Zellij release.
type ArchiveError struct {
	Source string
	Reason string
}

func (e *ArchiveError) Error() string {
	return fmt.Sprintf("zellij %s from %s is not a Zellij release archive: %s", Version, e.Source, e.Reason)
}

// Hints points at the mirror.
func (e *ArchiveError) Hints() []string {
	return []string{"a release archive holds one regular file named zellij at its root; check the mirror (" + urlSetting + ")"}
}

// TooOldError is a guest zellij older than MinVersion while installation is
// off.
type TooOldError struct {
	VM, Path, Version string
}

func (e *TooOldError) Error() string {
	return fmt.Sprintf("zellij %s at %s in the VM %s is older than %s, the oldest sysvm supports", e.Version, e.Path, e.VM, MinVersion)
}

// Hints offers the two ways out.
func (e *TooOldError) Hints() []string {
	return []string{
		"upgrade it in the VM, or point zellij.path in sysvm.yaml at a newer one",
		"or let sysvm install zellij " + Version + ": remove `install: false` from the zellij: block of sysvm.yaml",
	}
}
