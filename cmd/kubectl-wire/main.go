// Command kubectl-wire is kubewire as a kubectl plugin: with it on PATH,
// "kubectl wire run -- kubectl get pods" and "kubectl wire explain GET
// /api/v1/pods" work. A link to the kubewire binary named kubectl-wire does
// the same.
package main

import (
	"os"

	"github.com/kubewire/kubewire/cmd"
)

func main() { os.Exit(cmd.Main()) }
