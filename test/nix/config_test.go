package nixtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// TestNixReadsOnlyTheSuitesConfig checks that the suite's Nix takes its
// settings from nixConf alone. A parent environment that points Nix at a
// contradicting configuration in every place Nix looks (the system file, via
// NIX_CONF_DIR standing in for /etc/nix; the user files; NIX_CONFIG) must
// change none of the settings Nix reports. test/run.sh runs the whole suite
// once more with such a parent environment.
func TestNixReadsOnlyTheSuitesConfig(t *testing.T) {
	f := setup(t)
	hostile := t.TempDir()
	// Each line would hurt (flakes off, a dead substituter) or help (the
	// sandbox off, which the stub's builders once relied on).
	conf := "experimental-features = nix-command\nsandbox = false\ncores = 7\nsubstituters = http://127.0.0.1:9\n"
	userConf := filepath.Join(hostile, "xdg", "nix", "nix.conf")
	os.MkdirAll(filepath.Dir(userConf), 0o755)
	for _, p := range []string{filepath.Join(hostile, "nix.conf"), userConf} {
		if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	parent := append(os.Environ(), "NIX_CONF_DIR="+hostile, "NIX_USER_CONF_FILES="+userConf,
		"NIX_CONFIG=max-jobs = 5", "XDG_CONFIG_HOME="+filepath.Join(hostile, "xdg"))

	// The contradicting configuration is one Nix reads when nothing
	// overrides it, so the comparison below can fail.
	machine, err := showConfig(parent)
	if err != nil {
		t.Fatal(err)
	}
	if machine["sandbox"] != false || machine["cores"] != 7.0 || machine["max-jobs"] != 5.0 {
		t.Fatalf("nix did not read the contradicting configuration: sandbox %v, cores %v, max-jobs %v",
			machine["sandbox"], machine["cores"], machine["max-jobs"])
	}

	clean, err := showConfig(f.env(os.Environ(), nil))
	if err != nil {
		t.Fatal(err)
	}
	got, err := showConfig(f.env(parent, nil))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range got {
		if !reflect.DeepEqual(v, clean[k]) {
			t.Errorf("%s = %v with the contradicting configuration around, %v without: the suite reads it", k, v, clean[k])
		}
	}
	paths, _ := got["sandbox-paths"].([]any)
	if got["sandbox"] != true || got["sandbox-fallback"] != false || !slices.Contains(paths, any("/bin")) {
		t.Errorf("sandbox %v, sandbox-fallback %v, sandbox-paths %v: want the suite's sandbox, with /bin bound in",
			got["sandbox"], got["sandbox-fallback"], got["sandbox-paths"])
	}
	if subs, _ := got["substituters"].([]any); len(subs) != 0 {
		t.Errorf("substituters = %v, want none", subs)
	}
}

// showConfig returns the value of every setting `nix show-config` reports
// under env.
func showConfig(env []string) (map[string]any, error) {
	cmd := exec.Command("nix", "--extra-experimental-features", "nix-command", "show-config", "--json")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%v\n%s", err, exit.Stderr)
		}
		return nil, fmt.Errorf("nix show-config: %v", err)
	}
	var settings map[string]struct{ Value any }
	if err := json.Unmarshal(out, &settings); err != nil {
		return nil, fmt.Errorf("nix show-config --json: %v\n%s", err, out)
	}
	values := make(map[string]any, len(settings))
	for k, s := range settings {
		values[k] = s.Value
	}
	return values, nil
}
