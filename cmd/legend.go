package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// newLegendCmd is a placeholder until its issue lands.
func newLegendCmd(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:    "legend",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("'kubewire legend' is not built yet")
		},
	}
}
