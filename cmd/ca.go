package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCaCmd is a placeholder until its issue lands.
func newCaCmd(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:    "ca",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("'kubewire ca' is not built yet")
		},
	}
}
