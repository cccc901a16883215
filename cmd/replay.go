package cmd

import (
	"errors"

	"github.com/spf13/cobra"
)

// newReplayCmd is a placeholder until its issue lands.
func newReplayCmd(_ Streams) *cobra.Command {
	return &cobra.Command{
		Use:    "replay",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("'kubewire replay' is not built yet")
		},
	}
}
