package nft_test

import (
	"go4.org/netipx"

	"github.com/bulkhead/bulkhead/model"
)

func mustRange(s string) netipx.IPRange { return netipx.MustParseIPRange(s) }

func portRange(first, last uint16) model.PortRange {
	return model.PortRange{First: first, Last: last}
}
