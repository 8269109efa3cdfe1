// Command bulkhead analyzes, enforces and checks Kubernetes network
// segmentation. See README.md.
package main

import (
	"os"

	"github.com/bulkhead/bulkhead/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
