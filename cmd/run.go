package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// newRunCmd is a placeholder until its issue lands.
func newRunCmd(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:    "run",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("'kubewire run' is not built yet")
		},
	}
}
