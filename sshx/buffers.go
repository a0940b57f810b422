package sshx

import (
	"bytes"
	"sync"
)

// bytesBuffer is a bytes.Buffer safe for the concurrent writes x/crypto
// makes from its stdout and stderr copiers.
type bytesBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *bytesBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *bytesBuffer) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]byte(nil), w.b.Bytes()...)
}
