package cmd

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubewire/kubewire/render"
)

// levelFlags choose the detail level the same way in every command that
// renders records: --detail NAME|N, or -v, -vv, -vvv.
type levelFlags struct {
	detail  string
	verbose int
	showOwn bool
}

func (f *levelFlags) add(fs *pflag.FlagSet) {
	fs.StringVarP(&f.detail, "detail", "d", "", "detail level: 0..3 or line, journey, headers, bodies")
	fs.CountVarP(&f.verbose, "verbose", "v", "raise the detail level by one (-v journey, -vv headers, -vvv bodies)")
	fs.BoolVar(&f.showOwn, "show-own", false, "also show the calls kubewire makes itself (discovery, flow-schema names)")
}

// level validates the flags and returns the chosen level.
func (f *levelFlags) level(c *cobra.Command) (render.Level, error) {
	switch {
	case f.detail != "" && c.Flags().Changed("verbose"):
		return 0, usageError("give --detail or -v, not both; see '%s -h'", c.CommandPath())
	case f.detail != "":
		l, err := render.ParseLevel(f.detail)
		if err != nil {
			return 0, usageError("--detail: %v", err)
		}
		return l, nil
	}
	return render.Level(min(f.verbose, int(render.LevelBodies))), nil
}
