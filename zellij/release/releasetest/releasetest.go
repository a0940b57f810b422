// Package releasetest serves release-shaped Zellij assets from a loopback
// HTTP server, for tests: for each Linux target a tarball with a binary as
// `zellij` at its root, and a .sha256sum of that binary in the format of
// Zellij 0.43 and newer. It counts requests and can serve broken variants.
package releasetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
)

// Targets are the targets the server has assets for.
var Targets = []string{"x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"}

// Fault selects a broken variant of the assets.
type Fault int

const (
	// None serves good assets.
	None Fault = iota
	// BadSum serves a .sha256sum that does not match the binary.
	BadSum
	// Rebuilt serves a different binary with a matching .sha256sum: a
	// release that changed since it was first seen.
	Rebuilt
	// Truncated closes the connection halfway through the tarball.
	Truncated
	// NoZellij serves a tarball without a zellij file.
	NoZellij
	// NotFound answers every request with 404.
	NotFound
)

// Server is a running asset server. URL is the base a Cache fetches from.
type Server struct {
	URL string
	srv *httptest.Server
	bin []byte

	mu       sync.Mutex
	fault    Fault
	requests map[string]int
}

// NewServer serves bin as every target's zellij until Close.
func NewServer(bin []byte) *Server {
	s := &Server{bin: bin, requests: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server; later requests are refused, like a mirror that
// is down.
func (s *Server) Close() { s.srv.Close() }

// SetFault switches the variant served from now on.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// Requests counts the requests for name (an asset's file name); with no
// name, all requests.
func (s *Server) Requests(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" {
		n := 0
		for _, v := range s.requests {
			n += v
		}
		return n
	}
	return s.requests[name]
}

// TarballRequests counts the tarball downloads of every target.
func (s *Server) TarballRequests() int {
	n := 0
	for _, t := range Targets {
		n += s.Requests("zellij-" + t + ".tar.gz")
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.requests[name]++
	fault := s.fault
	s.mu.Unlock()
	target, kind := split(name)
	if target == "" || fault == NotFound {
		http.NotFound(w, r)
		return
	}
	bin := s.bin
	if fault == Rebuilt {
		bin = append(append([]byte(nil), bin...), "\n# rebuilt\n"...)
	}
	switch kind {
	case ".sha256sum":
		sum := Sum(bin)
		if fault == BadSum {
			sum = Sum(append(append([]byte(nil), bin...), 0))
		}
		fmt.Fprintf(w, "%s  target/%s/release/zellij\n", sum, target)
	case ".tar.gz":
		entries := []Entry{{Name: "zellij", Body: bin}}
		if fault == NoZellij {
			entries = []Entry{{Name: "README.md", Body: []byte("no binary here\n")}}
		}
		body := Tarball(entries...)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if fault != Truncated {
			w.Write(body)
			return
		}
		w.Write(body[:len(body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		// Aborting short of Content-Length drops the connection: what a
		// server that dies mid-body looks like to the client.
		panic(http.ErrAbortHandler)
	}
}

// split turns "zellij-<target>.tar.gz" into its target and suffix; the
// target is empty for any other name.
func split(name string) (target, kind string) {
	for _, t := range Targets {
		for _, k := range []string{".tar.gz", ".sha256sum"} {
			if name == "zellij-"+t+k {
				return t, k
			}
		}
	}
	return "", ""
}

// Sum is the lowercase hex sha256 of b.
func Sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Entry is one file of a tarball.
type Entry struct {
	Name string
	Body []byte
	// Type is the tar type flag; zero means a regular file.
	Type byte
}

// Tarball builds a gzipped tar of entries, each mode 0755.
func Tarball(entries ...Entry) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.Name, Mode: 0o755, Typeflag: typ}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.Body))
		} else if typ == tar.TypeSymlink {
			h.Linkname = "/bin/sh"
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err) // only reachable with a malformed Entry in a test
		}
		if typ == tar.TypeReg {
			tw.Write(e.Body)
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// Output runs cmd with stdin and returns what a release.Runner returns: its
// output and exit status, and an error only when it could not run.
func Output(cmd *exec.Cmd, stdin io.Reader) (stdout, stderr []byte, code int, err error) {
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errOut
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.Bytes(), errOut.Bytes(), ee.ExitCode(), nil
	}
	return out.Bytes(), errOut.Bytes(), 0, err
}
