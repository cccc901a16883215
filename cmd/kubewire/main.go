// Command kubewire shows what kubectl really says to a Kubernetes API server.
package main

import (
	"os"

	"github.com/kubewire/kubewire/cmd"
)

func main() { os.Exit(cmd.Main()) }
