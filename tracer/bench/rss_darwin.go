package bench

import (
	"errors"
	"os"
	"syscall"
)

// readRSS: macOS has no /proc; the RSS rows say "n/a".
func readRSS(int) (rss, peak int64, err error) {
	return 0, 0, errors.New("reading another process's RSS needs /proc (Linux)")
}

// childPeakRSS is an exited child's peak resident set size in bytes (macOS
// reports ru_maxrss in bytes).
func childPeakRSS(st *os.ProcessState) (int64, bool) {
	ru, ok := st.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return ru.Maxrss, true
}
