package cmd

import (
	"context"
	"errors"
	"io"
)

// ensureLab starts the lab when no kubeconfig exists (wired to tracer/lab
// once it lands).
func ensureLab(ctx context.Context, progress io.Writer) (kubeconfig, pathDir string, err error) {
	return "", "", errors.New("the lab is not available yet")
}
