//go:build !windows

package bench

import (
	"os"
)

// interrupt asks p to stop as Ctrl-C would.
func interrupt(p *os.Process) error { return p.Signal(os.Interrupt) }
