package compile_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// loadExample loads an example directory and gives every pod-like
// endpoint deterministic addresses in ID order: 10.0.0.N and fd00::N on
// the pod network, the node address 192.168.0.10 for hostNetwork pods.
func loadExample(t testing.TB, name string) *model.Snapshot {
	t.Helper()
	res, err := manifest.Load([]string{filepath.Join("..", "..", "examples", name)}, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	snap := res.Snapshot
	if errs := snap.Errors(); len(errs) > 0 {
		t.Fatalf("examples/%s: %v", name, errs[0].Error())
	}
	addIPs(snap)
	return snap
}

func addIPs(snap *model.Snapshot) {
	model.SortEndpoints(snap.Endpoints)
	n := 0
	for _, ep := range snap.Endpoints {
		if !ep.IsPodLike() {
			continue
		}
		if ep.HostNetwork {
			ep.IPs = []netip.Addr{netip.MustParseAddr("192.168.0.10")}
			continue
		}
		n++
		ep.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(n / 250), byte(n % 250)}), netip.MustParseAddr(fmt.Sprintf("fd00::%x", n))}
	}
}

// podLike returns e's pods and workloads.
func podLike(e *eval.Engine) []*model.Endpoint {
	var out []*model.Endpoint
	for _, ep := range e.Endpoints() {
		if ep != nil && ep.IsPodLike() {
			out = append(out, ep)
		}
	}
	return out
}
