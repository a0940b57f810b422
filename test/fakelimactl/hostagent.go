package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sysvm/sysvm/test/procs"
)

// hostAgent is the fake `limactl hostagent`: it owns one fake VM (an sshd),
// writes events to stdout (ha.stdout.log) and JSON log lines to stderr
// (ha.stderr.log), serves GET /v1/info on ha.sock, and tears the VM down on
// SIGINT/SIGTERM or when sshd dies.
type hostAgent struct {
	name, dir       string
	y               *limaYAML
	pidfile, socket string
	port            int
	listener        net.Listener
	sshd            *exec.Cmd
	sshdDone        chan error
	sshdReaped      bool
	progress        bool // --progress (2.0+): report cloud-init progress events
	sigCh           chan os.Signal
	reaper          *reaper
}

func hostagentAction(f *parsedFlags) error {
	if len(f.args) != 1 {
		return fmt.Errorf("accepts 1 arg(s), received %d", len(f.args))
	}
	inst, err := inspect(f.args[0])
	if err != nil {
		return err
	}
	if inst.Config == nil {
		return fmt.Errorf("errors inspecting instance: %+v", []error(inst.Errors))
	}
	ha := &hostAgent{
		name:     inst.Name,
		dir:      inst.Dir,
		y:        inst.Config,
		pidfile:  f.str("pidfile"),
		progress: f.bool("progress"),
		socket:   f.str("socket"),
		sshdDone: make(chan error, 1),
		sigCh:    make(chan os.Signal, 4),
	}
	if code := ha.run(); code != 0 {
		return exitCodeError(code)
	}
	return nil
}

// haLog writes one logrus JSON line ({"level","msg","time"}) to stderr.
func haLog(level, msg string) {
	b, _ := json.Marshal(struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Time  string `json:"time"`
	}{level, msg, time.Now().Format(time.RFC3339)})
	_, _ = os.Stderr.Write(append(b, '\n'))
}

// emit writes one event line to stdout (ha.stdout.log).
func emit(st haStatus) {
	b, _ := json.Marshal(haEvent{Time: time.Now(), Status: st})
	_, _ = os.Stdout.Write(append(b, '\n'))
}

func (ha *hostAgent) path(name string) string { return filepath.Join(ha.dir, name) }

func (ha *hostAgent) run() int {
	signal.Notify(ha.sigCh, syscall.SIGINT, syscall.SIGTERM)
	signal.Ignore(syscall.SIGHUP)
	r, err := newReaper()
	if err != nil {
		haLog("fatal", err.Error())
		return 1
	}
	ha.reaper = r

	if ha.pidfile != "" {
		if pid, _ := readPIDFile(ha.pidfile); pid != 0 {
			haLog("fatal", fmt.Sprintf("another hostagent may already be running with pid %d (pidfile %q)", pid, ha.pidfile))
			return 1
		}
		if err := writePIDFile(ha.pidfile, os.Getpid()); err != nil {
			haLog("fatal", err.Error())
			return 1
		}
	}
	haLog("info", fmt.Sprintf("fakelimactl hostagent for instance %q (pid %d)", ha.name, os.Getpid()))

	if err := ha.prepare(); err != nil {
		return ha.shutdown([]string{err.Error()}, 1)
	}
	if err := ha.bootConsole(); err != nil {
		return ha.shutdown([]string{err.Error()}, 1)
	}
	emit(haStatus{SSHLocalPort: ha.port})

	if knobOn("FAKELIMA_START_FAIL", ha.name) {
		msg := "fake VM failed to start (FAKELIMA_START_FAIL)"
		haLog("error", msg)
		return ha.shutdown([]string{msg}, 1)
	}
	if knobOn("FAKELIMA_LEAVE_BROKEN", ha.name) {
		msg := "fake driver did not start; leaving the instance Broken (FAKELIMA_LEAVE_BROKEN)"
		haLog("error", msg)
		emit(haStatus{Errors: []string{msg}, SSHLocalPort: ha.port})
		s := <-ha.sigCh
		haLog("info", fmt.Sprintf("Received %s, shutting down the host agent", s))
		return ha.shutdown(nil, 0)
	}
	if d := knob("FAKELIMA_BOOT_DELAY", ha.name); d != "" {
		if stopped := ha.bootDelay(d); stopped {
			return ha.shutdown(nil, 0)
		}
	}
	if err := ha.startSSHD(); err != nil {
		haLog("error", err.Error())
		return ha.shutdown([]string{err.Error()}, 1)
	}
	if err := ha.printHostKeys(); err != nil {
		haLog("error", err.Error())
		return ha.shutdown([]string{err.Error()}, 1)
	}
	stopStat := make(chan struct{})
	defer close(stopStat)
	go ha.keepGuestStat(stopStat)
	if !knobOn("FAKELIMA_NO_CONTROLMASTER", ha.name) {
		haLog("info", `Waiting for the essential requirement 2 of 2: "Explicitly start ssh ControlMaster"`)
		if err := ha.startControlMaster(); err != nil {
			haLog("error", err.Error())
			return ha.shutdown([]string{err.Error()}, 1)
		}
	}
	if knobOn("FAKELIMA_START_HANG", ha.name) {
		haLog("info", `Waiting for the final requirement 1 of 1: "boot scripts must have finished" (FAKELIMA_START_HANG: forever)`)
	} else {
		haLog("info", "The final requirement 1 of 1 is satisfied")
		emit(haStatus{Running: true, SSHLocalPort: ha.port})
		// The cloud-init watch runs beside the boot and its events
		// copy the current status; "completed" comes after running
		// here, so a start with --progress waits for it. It runs only
		// for a Linux guest that is not plain (Lima v2.2.0
		// pkg/hostagent/hostagent.go:654-664).
		if ha.progress && (ha.y.Plain == nil || !*ha.y.Plain) && (ha.y.OS == nil || *ha.y.OS == "Linux") {
			ha.cloudInitProgress()
		}
	}

	select {
	case s := <-ha.sigCh:
		haLog("info", fmt.Sprintf("Received %s, shutting down the host agent", s))
		return ha.shutdown(nil, 0)
	case err := <-ha.sshdDone:
		ha.sshdReaped = true
		msg := "driver (sshd) process exited: " + describeExit(err)
		haLog("error", msg)
		return ha.shutdown([]string{msg}, 1)
	}
}

// cloudInitProgress emits the events a 2.x hostagent started with
// --progress sends while it tails the guest's cloud-init-output.log
// (Lima v2.2.0 pkg/hostagent/hostagent.go): active, one log line per step,
// completed. The fake guest runs no cloud-init, so the lines name the
// provision scripts it would have run.
func (ha *hostAgent) cloudInitProgress() {
	st := func(p *cloudInitProgress) haStatus {
		return haStatus{Running: true, SSHLocalPort: ha.port, CloudInitProgress: p}
	}
	emit(st(&cloudInitProgress{Active: true}))
	for i, p := range ha.y.Provision {
		line := fmt.Sprintf("fakelimactl: provision script %d (mode %v) skipped: the fake guest runs no cloud-init", i, p["mode"])
		emit(st(&cloudInitProgress{Active: true, LogLine: line}))
	}
	emit(st(&cloudInitProgress{Active: true, LogLine: "Cloud-init v. fakelimactl finished"}))
	emit(st(&cloudInitProgress{Completed: true}))
}

// prepare serves ha.sock, picks the SSH port and writes ssh.config and the
// sshd configuration.
func (ha *hostAgent) prepare() error {
	if err := os.MkdirAll(ha.path(fnFakeGuestDir), 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(*ha.y.User.Home, 0o755); err != nil {
		return fmt.Errorf("failed to create the guest home %q: %w", *ha.y.User.Home, err)
	}
	port := *ha.y.SSH.LocalPort
	if port == 0 {
		var err error
		if port, err = freePort(previousPort(ha.path(fnSSHConfig))); err != nil {
			return err
		}
	}
	ha.port = port

	if ha.socket != "" {
		_ = os.Remove(ha.socket)
		l, err := net.Listen("unix", ha.socket)
		if err != nil {
			return fmt.Errorf("failed to listen on %q: %w", ha.socket, err)
		}
		ha.listener = l
		mux := http.NewServeMux()
		mux.HandleFunc("/v1/info", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]int{"sshLocalPort": ha.port})
		})
		go func() { _ = http.Serve(l, mux) }()
	}

	u, err := currentUser()
	if err != nil {
		return err
	}
	home, err := limaHome()
	if err != nil {
		return err
	}
	if err := os.WriteFile(ha.path(fnSSHConfig), []byte(sshConfigText(ha.name, ha.dir, home, u.Username, port, ha.y)), 0o600); err != nil {
		return err
	}
	cfg, err := ha.sshdConfigText(home, u.Username)
	if err != nil {
		return err
	}
	return os.WriteFile(ha.path(fnFakeSSHDConf), []byte(cfg), 0o600)
}

// bootDelay emulates a booting VM: qemu.pid holds the hostagent's own pid
// (status Running, SSH not yet reachable) while progress lines are logged.
// It returns true if a stop signal arrived meanwhile.
func (ha *hostAgent) bootDelay(spec string) bool {
	d, err := time.ParseDuration(spec)
	if err != nil {
		haLog("warning", fmt.Sprintf("ignoring FAKELIMA_BOOT_DELAY=%q: %v", spec, err))
		return false
	}
	_ = writePIDFile(ha.path(fnDriverPID), os.Getpid())
	deadline := time.Now().Add(d)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	haLog("info", `Waiting for the essential requirement 1 of 2: "ssh"`)
	for time.Now().Before(deadline) {
		select {
		case s := <-ha.sigCh:
			haLog("info", fmt.Sprintf("Received %s while booting, shutting down the host agent", s))
			return true
		case <-tick.C:
			haLog("info", fmt.Sprintf(`Waiting for the essential requirement 1 of 2: "ssh" (fake boot, %v left)`,
				time.Until(deadline).Round(100*time.Millisecond)))
		case <-time.After(time.Until(deadline)):
		}
	}
	return false
}

func sshdBinary() string {
	if p := os.Getenv("FAKELIMA_SSHD"); p != "" {
		return p
	}
	return "/usr/sbin/sshd"
}

// startSSHD runs sshd in the foreground as a child of the hostagent, records
// it in qemu.pid and waits until the port accepts TCP connections.
func (ha *hostAgent) startSSHD() error {
	sshd := sshdBinary()
	if os.Geteuid() == 0 {
		// sshd's privilege separation directory; present once the
		// openssh-server package ran its postinst, absent in containers.
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	cfg := ha.path(fnFakeSSHDConf)
	test := exec.Command(sshd, "-t", "-f", cfg)
	test.Stdout, test.Stderr = os.Stderr, os.Stderr
	if err := ha.reaper.run(test, 10*time.Second); err != nil {
		return fmt.Errorf("sshd rejected %q: %v (hint: see %q)", cfg, err, ha.path(fnHAStderr))
	}
	cmd := exec.Command(sshd, "-D", "-E", ha.path(fnHAStderr), "-f", cfg)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start %s: %w", sshd, err)
	}
	ha.sshd = cmd
	done := ha.reaper.waitCh(cmd.Process.Pid)
	go func() { ha.sshdDone <- waitStatusError(<-done) }()
	if err := writePIDFile(ha.path(fnDriverPID), cmd.Process.Pid); err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ha.port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case werr := <-ha.sshdDone:
			ha.sshdReaped = true
			return fmt.Errorf("sshd exited before listening on %s: %s (hint: see %q)", addr, describeExit(werr), ha.path(fnHAStderr))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd did not listen on %s within 10s", addr)
		}
	}
}

// startControlMaster opens the ssh ControlMaster (ssh.sock) like the real
// hostagent's "Explicitly start ssh ControlMaster" requirement.
func (ha *hostAgent) startControlMaster() error {
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		cmd := exec.Command("ssh", "-F", ha.path(fnSSHConfig), "-o", "LogLevel=ERROR", hostnameFor(ha.name), "true")
		cmd.Stderr = os.Stderr
		err := ha.reaper.run(cmd, 15*time.Second)
		if err == nil {
			return nil
		}
		lastErr = fmt.Errorf("failed to start the ssh ControlMaster (attempt %d): %v (hint: see %q)", attempt, err, ha.path(fnHAStderr))
		haLog("warning", lastErr.Error())
		time.Sleep(200 * time.Millisecond)
	}
	return lastErr
}

// shutdown powers the fake VM off, removes the runtime files, emits the
// exiting event and returns code.
func (ha *hostAgent) shutdown(errs []string, code int) int {
	haLog("info", "Shutting down the host agent")
	// Powering the VM off: everything in the hostagent's subtree (sshd, its
	// sessions, and guest daemons reparented to us as subreaper). sshd and
	// its connections go first, as the network does when a VM powers off:
	// a session must see its link drop, never a clean exit status relayed
	// by an sshd that outlived the guest's processes.
	if ha.sshd != nil && ha.sshd.Process != nil {
		sshd := ha.sshd.Process.Pid
		pids := append([]int{sshd}, procs.Descendants(sshd)...)
		killAll(syscall.SIGKILL, pids)
		removeAgentSockets(pids)
	}
	killAll(syscall.SIGKILL, procs.Descendants(os.Getpid()))
	if ha.sshd != nil && !ha.sshdReaped {
		<-ha.sshdDone
		ha.sshdReaped = true
	}
	killGuest(ha.dir, func(c *exec.Cmd) error { return ha.reaper.run(c, 5*time.Second) })
	if ha.listener != nil {
		_ = ha.listener.Close()
	}
	for _, p := range []string{ha.socket, ha.path(fnDriverPID), ha.path(fnSSHSock), ha.pidfile} {
		if p != "" {
			_ = os.Remove(p)
		}
	}
	emit(haStatus{Exiting: true, Errors: errs, SSHLocalPort: ha.port})
	return code
}

// killGuest kills every process of the fake guest: the zellij stand-in's
// tmux server and anything started from a guest SSH session (they carry
// FAKELIMA_INSTANCE_DIR=<dir> in their environment).
//
// run executes a helper command (the hostagent must use its reaper).
func killGuest(dir string, run func(*exec.Cmd) error) {
	sock := filepath.Join(dir, fnFakeGuestDir, "tmux.sock")
	if _, err := os.Stat(sock); err == nil {
		if tmux, err := exec.LookPath("tmux"); err == nil {
			cmd := exec.Command(tmux, "-S", sock, "kill-server")
			cmd.Env = withoutEnv(os.Environ(), "TMUX", "TMUX_PANE")
			_ = run(cmd)
		}
		_ = os.Remove(sock)
	}
	pids := procs.WithEnv("FAKELIMA_INSTANCE_DIR=" + dir)
	killAll(syscall.SIGKILL, pids)
	procs.WaitGone(3*time.Second, pids...)
}

func withoutEnv(env []string, keys ...string) []string {
	var out []string
outer:
	for _, kv := range env {
		for _, k := range keys {
			if strings.HasPrefix(kv, k+"=") {
				continue outer
			}
		}
		out = append(out, kv)
	}
	return out
}

// freePort returns a free TCP port on 127.0.0.1 other than avoid.
func freePort(avoid int) (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("failed to find a free port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if p != avoid {
			return p, nil
		}
	}
	return 0, errors.New("failed to find a free port different from the previous one")
}

// previousPort reads the Port line of an existing ssh.config (0 if none).
func previousPort(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Port "); ok {
			p, _ := strconv.Atoi(strings.TrimSpace(v))
			return p
		}
	}
	return 0
}

// hasAES reports whether the CPU advertises AES instructions (Lima then
// prefers AES-GCM ciphers).
func hasAES() bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "flags") || strings.HasPrefix(line, "Features") {
			for _, f := range strings.Fields(line) {
				if f == "aes" {
					return true
				}
			}
		}
	}
	return false
}

// sshConfigText renders ssh.config exactly like Lima v1.2.2's
// writeSSHConfigFile (with loadDotSSHPubKeys false).
func sshConfigText(name, dir, limaHome, user string, port int, y *limaYAML) string {
	ciphers := `"^chacha20-poly1305@openssh.com"`
	if hasAES() {
		ciphers = `"^aes128-gcm@openssh.com,aes256-gcm@openssh.com"`
	}
	var b strings.Builder
	b.WriteString("# This SSH config file can be passed to 'ssh -F'.\n")
	b.WriteString("# This file is created by Lima, but not used by Lima itself currently.\n")
	b.WriteString("# Modifications to this file will be lost on restarting the Lima instance.\n")
	b.WriteString("Host " + hostnameFor(name) + "\n")
	lines := []string{
		fmt.Sprintf("IdentityFile %q", filepath.Join(limaHome, "_config", "user")),
		"StrictHostKeyChecking no",
		"UserKnownHostsFile /dev/null",
		"NoHostAuthenticationForLocalhost yes",
		"PreferredAuthentications publickey",
		"Compression no",
		"BatchMode yes",
		"IdentitiesOnly yes",
		"GSSAPIAuthentication no",
		"Ciphers " + ciphers,
		"User " + user,
		"ControlMaster auto",
		fmt.Sprintf("ControlPath %q", filepath.Join(dir, fnSSHSock)),
		"ControlPersist yes",
	}
	if y.SSH.ForwardAgent != nil && *y.SSH.ForwardAgent {
		lines = append(lines, "ForwardAgent yes")
	}
	if y.SSH.ForwardX11 != nil && *y.SSH.ForwardX11 {
		lines = append(lines, "ForwardX11 yes")
	}
	if y.SSH.ForwardX11Trusted != nil && *y.SSH.ForwardX11Trusted {
		lines = append(lines, "ForwardX11Trusted yes")
	}
	lines = append(lines, "Hostname 127.0.0.1", "Port "+strconv.Itoa(port))
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// guestPath is PATH inside guest sessions.
func guestPath() string {
	if p := os.Getenv("FAKELIMA_GUEST_PATH"); p != "" {
		return p
	}
	exe, err := os.Executable()
	if err != nil {
		return "/usr/local/bin:/usr/bin:/bin"
	}
	return filepath.Join(filepath.Dir(exe), "guest-bin") + ":/usr/local/bin:/usr/bin:/bin"
}

// sshdQuote quotes a value for sshd_config (double quotes, backslash escapes).
func sshdQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// sshdConfigText renders the fake guest's sshd_config.
func (ha *hostAgent) sshdConfigText(limaHome, user string) (string, error) {
	env := map[string]string{}
	for k, v := range ha.y.Env {
		env[k] = v
	}
	env["PATH"] = guestPath()
	env["HOME"] = *ha.y.User.Home
	env["ZELLIJ_STANDIN_DIR"] = ha.path(fnFakeGuestDir)
	env["FAKELIMA_INSTANCE"] = ha.name
	env["FAKELIMA_INSTANCE_DIR"] = ha.dir
	env["SYSVM_GUEST_PROC"] = ha.guestProcDir()
	keys := make([]string, 0, len(env))
	for k := range env {
		if strings.ContainsAny(env[k], "\n\r") {
			return "", fmt.Errorf("env value for %q contains a line break", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var setenv []string
	for _, k := range keys {
		setenv = append(setenv, sshdQuote(k+"="+env[k]))
	}
	authKeys := strings.ReplaceAll(filepath.Join(limaHome, "_config", "user.pub"), "%", "%%")
	lines := []string{
		"# sshd_config of the fakelimactl guest " + strconv.Quote(ha.name) + "; regenerated at every start.",
		"ListenAddress 127.0.0.1",
		"Port " + strconv.Itoa(ha.port),
		"HostKey " + sshdQuote(ha.path(fnFakeHostKey)),
		"PidFile none",
		"AuthorizedKeysFile " + sshdQuote(authKeys),
		"StrictModes no",
		"UsePAM no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowUsers " + user,
		"AcceptEnv COLORTERM",
		"SetEnv " + strings.Join(setenv, " "),
		"LogLevel VERBOSE",
		"MaxSessions " + maxSessions(ha.name),
		"MaxStartups 100:30:200",
		"PrintMotd no",
		"PrintLastLog no",
		"UseDNS no",
		"X11Forwarding no",
		"AllowTcpForwarding yes",
		"AllowStreamLocalForwarding yes",
		"Subsystem sftp internal-sftp",
	}
	return strings.Join(lines, "\n") + "\n", nil
}
