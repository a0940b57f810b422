package lab

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/sysvm/sysvm/test/procs"
)

// TestStopBroker stops the lab's own broker by the pid it reports.
func TestStopBroker(t *testing.T) {
	l := New(t)
	sysvm := BuildSysvm(t)
	serve := l.Command(sysvm, "broker", "serve")
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	go serve.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for l.BrokerPID() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no broker answered on %s", l.BrokerSocket())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pid := l.BrokerPID(); pid != serve.Process.Pid {
		t.Fatalf("the broker says pid %d, started %d", pid, serve.Process.Pid)
	}
	if err := l.StopBroker(sysvm); err != nil {
		t.Fatal(err)
	}
	if procs.Alive(serve.Process.Pid) {
		t.Errorf("the broker (pid %d) still runs", serve.Process.Pid)
	}
}

// TestStopBrokerSparesOtherPrograms puts a socket that names another
// program's pid where the broker listens: StopBroker must refuse to signal it.
func TestStopBrokerSparesOtherPrograms(t *testing.T) {
	l := New(t)
	sysvm := BuildSysvm(t)
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })

	os.MkdirAll(l.RuntimeDir+"/sysvm", 0o700)
	ln, err := net.Listen("unix", l.BrokerSocket())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "{\"ok\":true,\"pid\":%d}\n", other.Process.Pid)
			c.Close()
		}
	}()
	if err := l.StopBroker(sysvm); err == nil {
		t.Error("StopBroker signalled a pid that runs sleep, not sysvm")
	}
	if !procs.Alive(other.Process.Pid) {
		t.Error("StopBroker killed a process that is not the lab's broker")
	}
}
