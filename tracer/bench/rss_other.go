//go:build !linux && !darwin

package bench

import (
	"errors"
	"os"
)

// readRSS needs /proc; elsewhere the RSS rows say "n/a".
func readRSS(int) (rss, peak int64, err error) {
	return 0, 0, errors.New("reading another process's RSS needs /proc (Linux)")
}

// childPeakRSS is unknown here.
func childPeakRSS(*os.ProcessState) (int64, bool) { return 0, false }
