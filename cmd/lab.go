package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// newLabCmd is a placeholder until its issue lands.
func newLabCmd(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:    "lab",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("'kubewire lab' is not built yet")
		},
	}
}
