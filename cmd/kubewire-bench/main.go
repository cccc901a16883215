// kubewire-bench is kubewire's benchmark harness (make bench); see
// docs/performance.md.
package main

import (
	"os"

	"github.com/kubewire/kubewire/tracer/bench"
)

func main() { os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr)) }
