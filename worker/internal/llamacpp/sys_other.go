//go:build !linux

package llamacpp

import "syscall"

// sysProcAttr: no parent-death signal outside Linux; the peer ends when its stdin closes.
func sysProcAttr() *syscall.SysProcAttr { return nil }
