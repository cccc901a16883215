//go:build unix

package lab

// supported says why the lab cannot run here: nil, it can.
func supported() error { return nil }
