package cmd

import (
	"fmt"

	"github.com/kubewire/kubewire/tracer/pki"
	"github.com/spf13/cobra"
)

type caOptions struct {
	path bool
}

func newCaCmd(s Streams) *cobra.Command {
	o := &caOptions{}
	c := &cobra.Command{
		Use:   "ca [--path]",
		Short: "Print kubewire's CA certificate (PEM), to trust it in curl or a browser",
		Long: `kubewire terminates the client's TLS with certificates signed by its own CA:
an ECDSA key made on first use and kept in the user's config directory
(mode 0600), never shared between users and never goproxy's built-in CA.
This prints the CA certificate (never the key), or its path with --path.`,
		Example: `  kubewire ca > kubewire-ca.crt
  curl --cacert "$(kubewire ca --path)" --proxy http://127.0.0.1:PORT https://127.0.0.1:6443/version`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error {
			return o.run(s)
		},
	}
	c.Flags().BoolVar(&o.path, "path", false, "print the certificate's file path instead of its contents")
	return c
}

func (o *caOptions) run(s Streams) error {
	dir, err := pki.DefaultDir()
	if err != nil {
		return err
	}
	ca, err := pki.LoadOrCreate(dir)
	if err != nil {
		return err
	}
	if o.path {
		_, err = fmt.Fprintln(s.Out, ca.CertFile)
		return err
	}
	_, err = s.Out.Write(ca.PEM)
	return err
}
