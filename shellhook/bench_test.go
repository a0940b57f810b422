package shellhook

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// promptLoop is a script that fires the shell's prompt event n times, with
// the hook loaded (hook=true) or not, inside a project whose entry the hook
// has already handled: the steady state of every prompt in a project.
func promptLoop(shell, hookFile string, n int, hook bool) []string {
	switch shell {
	case "fish":
		load := ""
		if hook {
			load = "source " + QuoteFish(hookFile) + "; set -g _sysvm_entered '/p|'; "
		}
		return []string{"fish", "--no-config", "-c", load + fmt.Sprintf("set -gx SYSVM_PROJECT_DIR /p; for i in (seq %d); emit fish_prompt; end", n)}
	case "zsh":
		load := "precmd_functions=()\n"
		if hook {
			load = "source " + QuotePOSIX(hookFile) + "; _sysvm_entered='/p|'\n"
		}
		return []string{"zsh", "-f", "-c", load + fmt.Sprintf("export SYSVM_PROJECT_DIR=/p; for ((i=0;i<%d;i++)); do for f in $precmd_functions; do $f; done; done", n)}
	default:
		load := "PROMPT_COMMAND=\n"
		if hook {
			load = "source " + QuotePOSIX(hookFile) + "; _sysvm_entered='/p|'\n"
		}
		return []string{"bash", "--norc", "-c", load + fmt.Sprintf("export SYSVM_PROJECT_DIR=/p; for ((i=0;i<%d;i++)); do eval \"$PROMPT_COMMAND\"; done", n)}
	}
}

// timeShell runs a prompt loop and returns its wall time. PATH is empty and
// the sysvm path does not exist: a hook that spawned any process would fail
// with "command not found", which is reported.
func timeShell(b *testing.B, argv []string) time.Duration {
	shellPath, err := exec.LookPath(argv[0])
	if err != nil {
		b.Skipf("%s not installed", argv[0])
	}
	cmd := exec.Command(shellPath, argv[1:]...)
	home := privateDir(b)
	cmd.Env = []string{"PATH=", "HOME=" + home, "XDG_RUNTIME_DIR=" + home}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil || len(out) > 0 {
		b.Fatalf("%v: %v\n%s", argv[:2], err, out)
	}
	return d
}

// BenchmarkHookPrompt measures the hook's cost per prompt when nothing
// changed, against the same shell without the hook, over 2000 prompts,
// and shows that such a prompt spawns no process.
func BenchmarkHookPrompt(b *testing.B) {
	const prompts = 2000
	hookDir := b.TempDir()
	for _, shell := range Names() {
		sh, _ := Lookup(shell)
		text, _ := sh.Hook("/nonexistent/sysvm")
		hookFile := filepath.Join(hookDir, "hook."+shell)
		os.WriteFile(hookFile, []byte(text), 0o644)
		for _, hook := range []bool{true, false} {
			name := shell + "-bare"
			if hook {
				name = shell + "-hook"
			}
			b.Run(name, func(b *testing.B) {
				var per float64
				for i := 0; i < b.N; i++ {
					base := timeShell(b, promptLoop(shell, hookFile, 0, hook))
					full := timeShell(b, promptLoop(shell, hookFile, prompts, hook))
					per = float64(full-base) / float64(time.Microsecond) / prompts
				}
				b.ReportMetric(per, "us/prompt")
			})
		}
	}
}
