// Command gencluster writes a deterministic synthetic cluster as YAML, for
// benchmarks and scale tests:
//
//	go run ./hack/gencluster -pods 10000 -policies 2000 > /tmp/c10k.yaml
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/bulkhead/bulkhead/internal/synth"
)

func main() {
	var cfg synth.Config
	flag.IntVar(&cfg.Pods, "pods", 1000, "number of pods")
	flag.IntVar(&cfg.Policies, "policies", 200, "number of NetworkPolicies")
	flag.IntVar(&cfg.AdminPolicies, "admin", 0, "number of Admin-tier ClusterNetworkPolicies (plus one Baseline) to add")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := synth.Generate(cfg).WriteYAML(w); err != nil {
		fmt.Fprintln(os.Stderr, "gencluster:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gencluster:", err)
		os.Exit(1)
	}
}
