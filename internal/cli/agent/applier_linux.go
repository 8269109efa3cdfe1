//go:build linux

package agent

import (
	"log/slog"

	"github.com/bulkhead/bulkhead/dataplane"
)

// newApplier returns the netlink applier, in the network namespace at
// netns if set.
func newApplier(table, netns string, log *slog.Logger) (dataplane.Applier, func(), error) {
	n, err := dataplane.New(dataplane.Config{Table: table, NetNSPath: netns, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return n, func() { _ = n.Close() }, nil
}
