package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// haStatus mirrors hostagent/events.Status@v1.2.2 (field order matters for
// the %+v rendering in "exiting, status=...").
type haStatus struct {
	Running      bool     `json:"running,omitempty"`
	Degraded     bool     `json:"degraded,omitempty"`
	Exiting      bool     `json:"exiting,omitempty"`
	Errors       []string `json:"errors,omitempty"`
	SSHLocalPort int      `json:"sshLocalPort,omitempty"`
	// CloudInitProgress is 2.0+ (Lima v2.0.0 pkg/hostagent/events/events.go).
	CloudInitProgress *cloudInitProgress `json:"cloudInitProgress,omitempty"`
}

// cloudInitProgress mirrors events.CloudInitProgress (2.0+).
type cloudInitProgress struct {
	LogLine   string `json:"logLine,omitempty"`
	Completed bool   `json:"completed,omitempty"`
	Active    bool   `json:"active,omitempty"`
}

// haEvent mirrors hostagent/events.Event.
type haEvent struct {
	Time   time.Time `json:"time,omitempty"`
	Status haStatus  `json:"status,omitempty"`
}

// tailFile reads complete lines appended to a file since the last call.
type tailFile struct {
	path string
	f    *os.File
	buf  []byte
}

func (t *tailFile) lines() []string {
	if t.f == nil {
		f, err := os.Open(t.path)
		if err != nil {
			return nil
		}
		t.f = f
	}
	chunk := make([]byte, 64<<10)
	for {
		n, err := t.f.Read(chunk)
		t.buf = append(t.buf, chunk[:n]...)
		if n == 0 || err != nil {
			break
		}
	}
	var out []string
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			break
		}
		out = append(out, strings.TrimSuffix(string(t.buf[:i]), "\r"))
		t.buf = t.buf[i+1:]
	}
	return out
}

func (t *tailFile) seekEnd() {
	if t.f == nil {
		if f, err := os.Open(t.path); err == nil {
			t.f = f
		}
	}
	if t.f != nil {
		_, _ = t.f.Seek(0, io.SeekEnd)
	}
}

func (t *tailFile) close() {
	if t.f != nil {
		_ = t.f.Close()
	}
}

// eventWatcher follows ha.stdout.log (events) and ha.stderr.log (hostagent
// log lines, re-logged with a "[hostagent] " prefix), like
// hostagent/events.Watch.
type eventWatcher struct {
	stdout, stderr tailFile
	begin          time.Time
}

func newEventWatcher(stdoutPath, stderrPath string, begin time.Time, stderrFromEnd bool) *eventWatcher {
	w := &eventWatcher{stdout: tailFile{path: stdoutPath}, stderr: tailFile{path: stderrPath}, begin: begin}
	if stderrFromEnd {
		w.stderr.seekEnd()
	}
	return w
}

func (w *eventWatcher) close() {
	w.stdout.close()
	w.stderr.close()
}

// poll processes the lines available now. It returns true once onEvent
// asked to stop.
func (w *eventWatcher) poll(onEvent func(haEvent) bool) (bool, error) {
	for _, line := range w.stderr.lines() {
		propagateJSON(line, w.begin)
	}
	for _, line := range w.stdout.lines() {
		if line == "" {
			continue
		}
		var ev haEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			return false, fmt.Errorf("failed to unmarshal %q as %T: %w", line, ev, err)
		}
		if onEvent(ev) {
			return true, nil
		}
	}
	return false, nil
}

// propagateJSON mirrors logrusutil.PropagateJSON: a JSON log line is
// re-logged at its level (fatal/panic demoted to error), anything else is
// logged at info level verbatim.
func propagateJSON(line string, begin time.Time) {
	if len(bytes.TrimSpace([]byte(line))) == 0 {
		return
	}
	var j struct {
		Level string    `json:"level"`
		Msg   string    `json:"msg"`
		Time  time.Time `json:"time"`
	}
	if err := json.Unmarshal([]byte(line), &j); err != nil || j.Level == "" {
		logLine(time.Now(), "info", "[hostagent] "+line, nil)
		return
	}
	if !j.Time.IsZero() && begin.After(j.Time.Add(time.Second)) {
		return
	}
	fields := map[string]string{}
	var all map[string]any
	if err := json.Unmarshal([]byte(line), &all); err == nil {
		keys := make([]string, 0, len(all))
		for k := range all {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "level" || k == "msg" || k == "time" {
				continue
			}
			fields[k] = fmt.Sprint(all[k])
		}
	}
	level := j.Level
	if level == "fatal" || level == "panic" {
		fields["fields.level"] = level
		level = "error"
	}
	logLine(j.Time, level, "[hostagent] "+j.Msg, fields)
}
