//go:build !linux && !windows

package bench

import "syscall"

// sysProcAttr: no parent-death signal outside Linux; the harness stops its
// programs itself.
func sysProcAttr() *syscall.SysProcAttr { return nil }
