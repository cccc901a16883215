package bench

import (
	"os"
	"syscall"
)

// interrupt cannot send Ctrl-C to another process on Windows: it kills.
func interrupt(p *os.Process) error { return p.Kill() }

func sysProcAttr() *syscall.SysProcAttr { return nil }
