package sshx

import (
	"errors"
	"fmt"
	"os"
)

// Kind names the type of an error this package returns, so the error can
// cross a process boundary (the broker's socket) and be rebuilt on the
// other side, and so callers can pick a hint with one switch.
type Kind string

// The kinds of errors Dial, ReadConfig and sessions return.
const (
	KindOther         Kind = ""
	KindHostKey       Kind = "hostkey"        // *HostKeyChangedError
	KindUnreachable   Kind = "unreachable"    // *UnreachableError
	KindConfig        Kind = "config"         // *ConfigError
	KindConfigMissing Kind = "config-missing" // *ConfigError for a file that does not exist
	KindKey           Kind = "key"            // *KeyError
	KindNoPin         Kind = "no-pin"         // *NoPinError
)

// KindOf returns the kind of err, looking through wrapping.
func KindOf(err error) Kind {
	var ce *ConfigError
	switch {
	case err == nil:
		return KindOther
	case errors.As(err, new(*HostKeyChangedError)):
		return KindHostKey
	case errors.As(err, new(*UnreachableError)):
		return KindUnreachable
	case errors.As(err, new(*KeyError)):
		return KindKey
	case errors.As(err, new(*NoPinError)):
		return KindNoPin
	case errors.As(err, &ce):
		if errors.Is(err, os.ErrNotExist) {
			return KindConfigMissing
		}
		return KindConfig
	}
	return KindOther
}

// Rebuild makes an error of kind k again from its message; hk carries the
// fields of a host-key error. The rebuilt error has the same kind.
func Rebuild(k Kind, msg string, hk *HostKeyChangedError) error {
	err := errors.New(msg)
	switch k {
	case KindHostKey:
		if hk != nil {
			return hk
		}
	case KindUnreachable:
		return &UnreachableError{Addr: "the VM's SSH port", Err: err}
	case KindConfig:
		return &ConfigError{Path: "the VM's ssh config", Err: err}
	case KindConfigMissing:
		return &ConfigError{Path: "the VM's ssh config", Err: fmt.Errorf("%v: %w", err, os.ErrNotExist)}
	case KindKey:
		return &KeyError{Path: "the VM's SSH key", Err: err}
	case KindNoPin:
		return &NoPinError{msg: msg}
	}
	return err
}
