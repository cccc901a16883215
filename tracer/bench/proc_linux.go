package bench

import "syscall"

// sysProcAttr makes the harness's programs die with it, even when it is
// killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
