package shellhook

// The hooks share one decision, written three times in each shell's idiom:
//
//	project := $SYSVM_PROJECT_DIR (exported by `use sysvm`, empty outside)
//	key := project + "|" + $SYSINIT_NO_AUTO_VM   (turning auto-entry back on
//	                                              counts as a new entry)
//	if key == last key: return                   (the per-prompt fast path)
//	last key := key
//	if project == "": return                     (left the project)
//	if not interactive, no terminal, CI, inside the VM, inside a local
//	   Zellij (unless SYSVM_ALLOW_IN_ZELLIJ=1), or an editor's environment
//	   probe: return silently
//	if SYSINIT_NO_AUTO_VM is set to anything but "", 0, false or no (any
//	   case): say how to enter, return
//	sysvm attach $project                        (foreground, once per entry)

const bashHook = `# sysvm shell hook for bash: add  eval "$(sysvm hook bash)"  to ~/.bashrc, after direnv's hook.
_sysvm_bin={{quote .Self}}
_sysvm_hook() {
  local _sysvm_ret=$?
  if [[ "${SYSVM_PROJECT_DIR-}|${SYSINIT_NO_AUTO_VM-}" == "${_sysvm_entered-}" ]]; then
    return $_sysvm_ret
  fi
  _sysvm_entered="${SYSVM_PROJECT_DIR-}|${SYSINIT_NO_AUTO_VM-}"
  if [[ -z "${SYSVM_PROJECT_DIR-}" || $- != *i* || ! -t 0 || ! -t 1 || -n "${CI-}" || -n "${SYSINIT_IN_VM-}" \
     || ( -n "${ZELLIJ-}" && "${SYSVM_ALLOW_IN_ZELLIJ-}" != 1 ) || -n "${VSCODE_RESOLVING_ENVIRONMENT-}" \
     || -n "${INTELLIJ_ENVIRONMENT_READER-}" || "${TERM-}" == dumb ]]; then
    return $_sysvm_ret
  fi
  case "${SYSINIT_NO_AUTO_VM-}" in
    '' | 0 | [Ff][Aa][Ll][Ss][Ee] | [Nn][Oo]) ;;
    *)
      printf 'sysvm: auto-entry is off (SYSINIT_NO_AUTO_VM is set); enter the VM with vm-shell or sysvm attach\n' >&2
      return $_sysvm_ret
      ;;
  esac
  "$_sysvm_bin" attach -- "$SYSVM_PROJECT_DIR"
  return $_sysvm_ret
}
if [[ "$(declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
  if [[ " ${PROMPT_COMMAND[*]} " != *" _sysvm_hook "* ]]; then
    PROMPT_COMMAND+=(_sysvm_hook)
  fi
elif [[ ";${PROMPT_COMMAND-};" != *";_sysvm_hook;"* ]]; then
  PROMPT_COMMAND="${PROMPT_COMMAND:+${PROMPT_COMMAND%;};}_sysvm_hook"
fi
`

const zshHook = `# sysvm shell hook for zsh: add  eval "$(sysvm hook zsh)"  to ~/.zshrc, after direnv's hook.
typeset -g _sysvm_bin={{quote .Self}}
typeset -g _sysvm_entered="${_sysvm_entered-}"
_sysvm_hook() {
  local _sysvm_ret=$?
  if [[ "${SYSVM_PROJECT_DIR-}|${SYSINIT_NO_AUTO_VM-}" == "${_sysvm_entered}" ]]; then
    return $_sysvm_ret
  fi
  _sysvm_entered="${SYSVM_PROJECT_DIR-}|${SYSINIT_NO_AUTO_VM-}"
  if [[ -z "${SYSVM_PROJECT_DIR-}" || ! -o interactive || ! -t 0 || ! -t 1 || -n "${CI-}" || -n "${SYSINIT_IN_VM-}" \
     || ( -n "${ZELLIJ-}" && "${SYSVM_ALLOW_IN_ZELLIJ-}" != 1 ) || -n "${VSCODE_RESOLVING_ENVIRONMENT-}" \
     || -n "${INTELLIJ_ENVIRONMENT_READER-}" || "${TERM-}" == dumb ]]; then
    return $_sysvm_ret
  fi
  case "${SYSINIT_NO_AUTO_VM-}" in
    '' | 0 | [Ff][Aa][Ll][Ss][Ee] | [Nn][Oo]) ;;
    *)
      print -u2 'sysvm: auto-entry is off (SYSINIT_NO_AUTO_VM is set); enter the VM with vm-shell or sysvm attach'
      return $_sysvm_ret
      ;;
  esac
  "$_sysvm_bin" attach -- "$SYSVM_PROJECT_DIR"
  return $_sysvm_ret
}
typeset -ag precmd_functions
if (( ! ${precmd_functions[(I)_sysvm_hook]} )); then
  precmd_functions+=(_sysvm_hook)
fi
`

const fishHook = `# sysvm shell hook for fish: add  sysvm hook fish | source  to ~/.config/fish/config.fish, after direnv's hook.
set -g _sysvm_bin {{quote .Self}}
set -q _sysvm_entered; or set -g _sysvm_entered ''
function _sysvm_hook --on-event fish_prompt
    set -l project ''
    set -q SYSVM_PROJECT_DIR; and set project $SYSVM_PROJECT_DIR
    set -l noauto ''
    set -q SYSINIT_NO_AUTO_VM; and set noauto $SYSINIT_NO_AUTO_VM
    test "$project|$noauto" = "$_sysvm_entered"; and return
    set -g _sysvm_entered "$project|$noauto"
    test -n "$project"; or return
    status is-interactive; or return
    isatty stdin; and isatty stdout; or return
    set -q CI; and return
    set -q SYSINIT_IN_VM; and return
    if set -q ZELLIJ; and not test "$SYSVM_ALLOW_IN_ZELLIJ" = 1
        return
    end
    set -q VSCODE_RESOLVING_ENVIRONMENT; and return
    set -q INTELLIJ_ENVIRONMENT_READER; and return
    test "$TERM" = dumb; and return
    switch (string lower -- "$noauto")
        case '' 0 false no
        case '*'
            echo 'sysvm: auto-entry is off (SYSINIT_NO_AUTO_VM is set); enter the VM with vm-shell or sysvm attach' >&2
            return
    end
    $_sysvm_bin attach -- $project
end
`
