package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// newWhoamiCmd is a placeholder until its issue lands.
func newWhoamiCmd(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:    "whoami",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("'kubewire whoami' is not built yet")
		},
	}
}
