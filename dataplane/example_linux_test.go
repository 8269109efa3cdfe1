//go:build linux

package dataplane_test

import (
	"context"
	"log"
	"log/slog"
	"time"

	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/nft"
)

// ExampleNew programs the bulkhead table in a node's network namespace. It
// needs root, so it has no checked output.
func ExampleNew() {
	a, err := dataplane.New(dataplane.Config{NetNSPath: "/var/run/netns/node1", Logger: slog.Default()})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rs := &nft.Ruleset{Chains: []nft.Chain{{Name: "filter_forward", Hook: nft.HookForward, Policy: nft.PolicyAccept}}}
	if err := a.Apply(ctx, rs); err != nil {
		log.Print(err) // the previous table is still in place
	}
}
