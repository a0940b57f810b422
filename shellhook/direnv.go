package shellhook

import (
	"fmt"
	"sort"
	"strings"
)

// Direnvrc renders the direnv library that defines `use sysvm`; self is the
// sysvm executable, used unless SYSVM_BIN names another.
//
// `use sysvm` only exports variables and adds the helper commands to PATH.
// With `--up` it also starts a stopped VM fully detached, so the VM boots
// while the prompt returns. It never runs anything interactive.
func Direnvrc(self string) string {
	return `# sysvm's library for direnv: defines ` + "`use sysvm`" + ` for .envrc files.
# Install it with  sysvm direnvrc --install  (writes ~/.config/direnv/lib/sysvm.sh).
use_sysvm() {
  local sysvm_bin=${SYSVM_BIN:-` + QuotePOSIX(self) + `}
  local up=0 arg
  for arg in "$@"; do
    case $arg in
      --up) up=1 ;;
      *) log_error "use sysvm: unknown option $arg (known: --up)"; return 1 ;;
    esac
  done
  if ! command -v "$sysvm_bin" >/dev/null 2>&1; then
    log_error "use sysvm: sysvm not found (set SYSVM_BIN or put sysvm on PATH)"
    return 1
  fi
  local exports
  exports=$("$sysvm_bin" direnv-export -- "$PWD") || return 1
  eval "$exports"
  watch_file "$SYSVM_PROJECT_DIR/sysvm.yaml" "$SYSVM_PROJECT_DIR/.lima/config.yaml" "$SYSVM_PROJECT_DIR/.sysvm/layout.kdl"
  PATH_add "$SYSVM_HELPERS"
  if [[ $up == 1 ]]; then
    # Fully detached: new session, every descriptor closed, output to a log.
    "$sysvm_bin" up --background --quiet -- "$SYSVM_PROJECT_DIR" </dev/null >/dev/null 2>&1 3>&- || true
  fi
}
`
}

// Exports renders `export K=V` lines for bash (what direnv evaluates).
func Exports(vars map[string]string) string {
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s=%s\n", k, QuotePOSIX(vars[k]))
	}
	return b.String()
}

// Helpers maps each helper command on PATH to the sysvm command it runs.
var Helpers = map[string][]string{
	"vm-shell":   {"shell"},
	"vm-start":   {"up"},
	"vm-stop":    {"stop"},
	"vm-status":  {"status"},
	"vm-destroy": {"destroy"},
	"vm-attach":  {"attach"},
}
