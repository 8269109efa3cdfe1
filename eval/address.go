package eval

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/bulkhead/bulkhead/model"
	"go4.org/netipx"
)

// addressSpace partitions every IPv4 and IPv6 address into regions: the
// coarsest sets of addresses that every IP-based peer (ipBlock, networks,
// nodes) either contains entirely or not at all. Two addresses of one
// region are indistinguishable to every policy, which is what lets the
// outside world be a handful of endpoints and pods with addresses join
// classes.
type addressSpace struct {
	sets []model.IPSet // distinct IP-peer sets, by set id
	// starts are the first addresses of the elementary intervals, sorted;
	// interval i runs to the address before starts[i+1] or the end of its
	// family.
	starts   []netip.Addr
	interval []int32 // region of each elementary interval
	regions  []region
}

type region struct {
	ips     model.IPSet
	members bitset // set ids containing the region
}

// newAddressSpace builds the partition induced by sets.
func newAddressSpace(sets []model.IPSet) *addressSpace {
	a := &addressSpace{sets: sets}
	bounds := []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	for _, s := range sets {
		for _, r := range s.Ranges() {
			bounds = append(bounds, r.From())
			if next := r.To().Next(); next.IsValid() && next.Is4() == r.To().Is4() {
				bounds = append(bounds, next)
			}
		}
	}
	slices.SortFunc(bounds, netip.Addr.Compare)
	a.starts = slices.Compact(bounds)

	byKey := map[string]int32{}
	var rangesOf [][]netipx.IPRange
	a.interval = make([]int32, len(a.starts))
	for i, start := range a.starts {
		var m bitset
		m = m.grow(len(sets))
		for j, s := range sets {
			if s.Contains(start) {
				m.set(j)
			}
		}
		key := m.key()
		id, ok := byKey[key]
		if !ok {
			id = int32(len(a.regions))
			byKey[key] = id
			a.regions = append(a.regions, region{members: m})
			rangesOf = append(rangesOf, nil)
		}
		a.interval[i] = id
		rangesOf[id] = append(rangesOf[id], netipx.IPRangeFrom(start, a.last(i)))
	}
	for id := range a.regions {
		a.regions[id].ips = model.IPRangesOf(rangesOf[id]...)
	}
	return a
}

// last returns the last address of elementary interval i.
func (a *addressSpace) last(i int) netip.Addr {
	start := a.starts[i]
	if i+1 < len(a.starts) && a.starts[i+1].Is4() == start.Is4() {
		return a.starts[i+1].Prev()
	}
	if start.Is4() {
		return netip.AddrFrom4([4]byte{255, 255, 255, 255})
	}
	return netip.AddrFrom16([16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
}

// regionOf returns the region holding addr.
func (a *addressSpace) regionOf(addr netip.Addr) int32 {
	addr = addr.Unmap()
	i, found := slices.BinarySearchFunc(a.starts, addr, netip.Addr.Compare)
	if !found {
		i--
	}
	return a.interval[i]
}

// regionsKey formats a sorted region list for class keys.
func regionsKey(rs []int32) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(itoa(int(r)))
		b.WriteByte(',')
	}
	return b.String()
}
