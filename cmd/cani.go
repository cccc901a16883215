package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCaniCmd is a placeholder until its issue lands.
func newCaniCmd(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:    "can-i",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("'kubewire can-i' is not built yet")
		},
	}
}
