package cmd

import (
	"context"
	"fmt"
	"io"

	"github.com/kubewire/kubewire/tracer/lab"
	"github.com/kubewire/kubewire/tracer/live"
)

// ensureLab brings up the user's lab (building it first if needed, with
// progress) when no kubeconfig exists.
func ensureLab(ctx context.Context, progress io.Writer) (*live.Cluster, error) {
	fmt.Fprintln(progress, "kubewire: no kubeconfig found; using the lab (a real local control plane, see 'kubewire lab -h')")
	l, err := lab.Ensure(ctx, lab.Options{Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("start the lab: %w", err)
	}
	return &live.Cluster{Kubeconfig: l.Kubeconfig, PathDir: l.BinDir, AuditLog: l.AuditLog}, nil
}
