package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// newProxyCmd is a placeholder until its issue lands.
func newProxyCmd(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:    "proxy",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("'kubewire proxy' is not built yet")
		},
	}
}
