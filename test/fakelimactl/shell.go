package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"golang.org/x/term"
)

// passExitError makes run() exit with code silently (limactl passes ssh's
// exit status through without a log line).
type passExitError struct{ code int }

func (e passExitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

var safeShellRe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote mirrors alessio/shellescape.Quote.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if safeShellRe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// shellAction mirrors cmd/limactl/shell.go@v1.2.2 with these deviations:
// a stopped instance is an error (no prompt), and a command runs through
// `exec $SHELL -c`, not a login shell, so that the PATH that sshd sets for
// the fake guest is not reset by /etc/profile.
func shellAction(f *parsedFlags) error {
	args := f.args
	if len(args) == 0 {
		return errors.New("requires at least 1 arg(s), only received 0")
	}
	if len(args) >= 2 && args[1] == "--" {
		args = append([]string{args[0]}, args[2:]...)
	}
	name := args[0]
	if len(args) >= 2 {
		switch args[1] {
		case "create", "start", "delete", "shell":
			warnf("Perhaps you meant `limactl %s`?", strings.Join(args[1:], " "))
		}
	}
	inst, err := inspect(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("instance %s does not exist, run `limactl create %s` to create a new instance", q(name), name)
		}
		return err
	}
	if inst.Status == statusStopped {
		return fmt.Errorf("instance %s is stopped, run `limactl start %s` to start the instance", q(name), name)
	}
	sshArgv := strings.Fields(os.Getenv("SSH"))
	if len(sshArgv) == 0 {
		sshArgv = []string{"ssh"}
	}
	sshPath, err := exec.LookPath(sshArgv[0])
	if err != nil {
		return err
	}
	cfg := filepath.Join(inst.Dir, fnSSHConfig)
	host := hostnameFor(name)
	if f.bool("reconnect") {
		infof("Exiting ssh session for the instance %q", name)
		_ = exec.Command(sshPath, append(sshArgv[1:], "-F", cfg, "-O", "exit", host)...).Run()
	}

	var cd string
	if wd := f.str("workdir"); wd != "" {
		cd = fmt.Sprintf("cd %s || exit 1", shellQuote(wd))
	} else if inst.Config != nil && len(inst.Config.Mounts) > 0 {
		if cwd, err := os.Getwd(); err == nil {
			cd = "cd " + shellQuote(cwd)
		} else {
			cd = "false"
		}
		if home, err := os.UserHomeDir(); err == nil {
			cd += " || cd " + shellQuote(home)
		}
	} else {
		cd = "false"
	}
	sh := `"$SHELL"`
	if s := f.str("shell"); s != "" {
		sh = shellQuote(s)
	}
	script := fmt.Sprintf("%s ; exec %s --login", cd, sh)
	if len(args) > 1 {
		quoted := make([]string, len(args)-1)
		parsingEnv := true
		for i, a := range args[1:] {
			if k, v, ok := strings.Cut(a, "="); parsingEnv && ok {
				quoted[i] = k + "=" + shellQuote(v)
			} else {
				parsingEnv = false
				quoted[i] = shellQuote(a)
			}
		}
		script = fmt.Sprintf("%s ; exec %s -c %s", cd, sh, shellQuote(strings.Join(quoted, " ")))
	}

	argv := append([]string{sshArgv[0]}, sshArgv[1:]...)
	argv = append(argv, "-F", cfg)
	if term.IsTerminal(int(os.Stdout.Fd())) {
		argv = append(argv, "-t")
	}
	if _, ok := os.LookupEnv("COLORTERM"); ok {
		argv = append(argv, "-o", "SendEnv=COLORTERM")
	}
	argv = append(argv, "-o", "LogLevel=ERROR", host, "--", script)
	return syscall.Exec(sshPath, argv, os.Environ())
}

// validateAction mirrors `limactl validate` (template validate) for local
// files.
func validateAction(f *parsedFlags) error {
	if len(f.args) == 0 {
		return errors.New("requires at least 1 arg(s), only received 0")
	}
	home, err := limaHome()
	if err != nil {
		return err
	}
	for _, arg := range f.args {
		b, err := os.ReadFile(strings.TrimPrefix(arg, "file://"))
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return fmt.Errorf("don't know how to interpret %q as a template locator", arg)
		}
		s := strings.ToLower(filepath.Base(arg))
		s = strings.TrimSuffix(strings.TrimSuffix(s, ".yml"), ".yaml")
		if err := validateIdentifier(s); err != nil {
			return fmt.Errorf("filename %q is invalid: %w", arg, err)
		}
		y, err := parseLimaYAML(b, filepath.Join(home, s+".yaml"))
		if err != nil {
			return err
		}
		if err := validateLimaYAML(y); err != nil {
			return fmt.Errorf("failed to validate YAML file %q: %w", arg, err)
		}
		infof("%q: OK", arg)
		if f.bool("fill") {
			if err := fillDefaults(y, filepath.Join(home, s)); err != nil {
				return err
			}
			out, err := marshalYAML(y)
			if err != nil {
				return fmt.Errorf("failed to marshal template %q again after filling defaults: %w", arg, err)
			}
			fmt.Print(out)
		}
	}
	return nil
}
