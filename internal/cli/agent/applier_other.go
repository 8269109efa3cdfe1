//go:build !linux

package agent

import (
	"errors"
	"log/slog"

	"github.com/bulkhead/bulkhead/dataplane"
)

func newApplier(table, netns string, log *slog.Logger) (dataplane.Applier, func(), error) {
	return nil, nil, errors.New("the agent programs nftables and runs on Linux only")
}
