package sshx

import (
	"os"
	"path/filepath"
	"testing"
)

// limaSSHConfig is the ssh.config Lima v1.2.2 wrote for a real QEMU instance
// (the kind test/realvm boots), with the home directory shortened.
const limaSSHConfig = `# This SSH config file can be passed to 'ssh -F'.
# This file is created by Lima, but not used by Lima itself currently.
# Modifications to this file will be lost on restarting the Lima instance.
Host lima-e2e
  IdentityFile "/tmp/svl/_config/user"
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  NoHostAuthenticationForLocalhost yes
  PreferredAuthentications publickey
  Compression no
  BatchMode yes
  IdentitiesOnly yes
  GSSAPIAuthentication no
  Ciphers "^aes128-gcm@openssh.com,aes256-gcm@openssh.com"
  User limatest
  ControlMaster auto
  ControlPath "/tmp/svl/e2e/ssh.sock"
  ControlPersist yes
  Hostname 127.0.0.1
  Port 35383
`

func TestReadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ssh.config")
	os.WriteFile(path, []byte(limaSSHConfig), 0o600)
	c, err := ReadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Path: path, Alias: "lima-e2e", User: "limatest", Hostname: "127.0.0.1", Port: 35383,
		IdentityFile: "/tmp/svl/_config/user", Ciphers: []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com"}}
	if c.Alias != want.Alias || c.User != want.User || c.Hostname != want.Hostname || c.Port != want.Port ||
		c.IdentityFile != want.IdentityFile || len(c.Ciphers) != 2 || c.Ciphers[0] != want.Ciphers[0] || c.ForwardAgent {
		t.Errorf("ReadConfig = %+v\nwant %+v", *c, want)
	}
	if c.Addr() != "127.0.0.1:35383" {
		t.Errorf("Addr = %q", c.Addr())
	}
}

func TestReadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"garbled":  "Host\n  Port\n\x00\x01",
		"no-port":  "Host lima-x\n  User u\n  IdentityFile /k\n",
		"bad-port": "Host lima-x\n  User u\n  IdentityFile /k\n  Port 0\n",
		"no-user":  "Host lima-x\n  IdentityFile /k\n  Port 22\n",
		"no-host":  "  User u\n",
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := ReadConfig(path); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := ReadConfig(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: want an error")
	}
}
