package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DirEnv names the environment variable that overrides the default lab's
// state directory.
const DirEnv = "KUBEWIRE_LAB_DIR"

// DefaultDir is the user's lab's state directory: $KUBEWIRE_LAB_DIR, else
// $XDG_STATE_HOME/kubewire/lab, else ~/.local/state/kubewire/lab.
func DefaultDir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return filepath.Abs(d)
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "kubewire", "lab"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the lab's state: %w; set %s", err, DirEnv)
	}
	return filepath.Join(home, ".local", "state", "kubewire", "lab"), nil
}

// Options configure Ensure.
type Options struct {
	// Progress receives build and start-up progress; nil discards it.
	Progress io.Writer
	// Dir is the lab's state directory; "" means DefaultDir.
	Dir string
	// Ports are the lab's ports; zero means DefaultPorts.
	Ports Ports
	// Build configures where the source and the binary cache are.
	Build BuildOptions
}

// Ensure returns the user's lab, building its binaries and starting it
// first when needed. It is what kubewire runs when no cluster is
// configured.
func Ensure(ctx context.Context, o Options) (*Lab, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	dir := o.Dir
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if l, err := Open(ctx, dir); err == nil {
		return l, nil
	}
	ports := o.Ports
	if ports == (Ports{}) {
		ports = DefaultPorts()
	}
	bo := o.Build
	if bo.Progress == nil {
		bo.Progress = o.Progress
	}
	bins, err := Build(ctx, bo)
	if err != nil {
		return nil, err
	}
	return Up(ctx, Config{Dir: dir, Ports: ports, Binaries: bins, Progress: o.Progress})
}
