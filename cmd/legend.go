package cmd

import (
	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/render"
)

type legendOptions struct {
	color string
}

func newLegendCmd(s Streams) *cobra.Command {
	o := &legendOptions{}
	c := &cobra.Command{
		Use:   "legend",
		Short: "Explain every symbol and colour of kubewire's output",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(s)
		},
	}
	c.Flags().StringVar(&o.color, "color", "auto", "colour: auto (only on a terminal, not with NO_COLOR), always or never")
	return c
}

func (o *legendOptions) validate() error {
	switch o.color {
	case "auto", "always", "never":
		return nil
	}
	return usageError("unknown --color %q; want auto, always or never", o.color)
}

func (o *legendOptions) run(s Streams) error {
	ro := render.OptionsFor(s.Out)
	switch o.color {
	case "always":
		ro.Color = true
	case "never":
		ro.Color = false
	}
	return render.Legend(s.Out, ro)
}
