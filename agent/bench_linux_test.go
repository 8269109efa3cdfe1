//go:build linux

package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/agent"
	"github.com/bulkhead/bulkhead/dataplane"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/internal/testutil/netnstest"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile/compiletest"
)

// BenchmarkPrivilegedUpdate is the agent's whole path for one object
// change on a generated cluster, kernel included: the engine's
// incremental update, the cached compilation of node-0's ruleset (with the
// change from the previous one), and the netlink transaction in a private
// network namespace, made either with dataplane.Netlink.ApplyDelta from
// the compiler's change, as the agent does (apply=delta), or with Apply,
// which validates and diffs the whole ruleset (apply=ruleset). It reports
// each stage's mean (engine-ms, compile-ms, apply-ms) and, once, the
// first full transaction (full-apply-ms).
func BenchmarkPrivilegedUpdate(b *testing.B) {
	for _, cfg := range []synth.Config{
		{Pods: 1000, Policies: 200, AdminPolicies: 10},
		{Pods: 10000, Policies: 2000, AdminPolicies: 100},
		{Pods: 10000, Policies: 2000},
	} {
		for _, change := range compiletest.Changes {
			for _, path := range []string{"delta", "ruleset"} {
				name := fmt.Sprintf("pods=%d/admin=%d/%s/apply=%s", cfg.Pods, cfg.AdminPolicies, change, path)
				b.Run(name, func(b *testing.B) {
					ns := netnstest.New(b)
					a, err := dataplane.New(dataplane.Config{NetNS: int(ns)})
					if err != nil {
						b.Fatal(err)
					}
					defer a.Close()
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
					defer cancel()
					u := compiletest.NewUpdateBench(b, cfg, "node-0")
					t0 := time.Now()
					if err := a.Apply(ctx, u.Ruleset); err != nil {
						b.Fatal(err)
					}
					full := time.Since(t0)
					var apply time.Duration
					b.ReportAllocs()
					for b.Loop() {
						u.Change(change)
						t := time.Now()
						if path == "delta" {
							err = a.ApplyDelta(ctx, u.Base, u.Ruleset, u.Delta)
						} else {
							err = a.Apply(ctx, u.Ruleset)
						}
						if err != nil {
							b.Fatal(err)
						}
						apply += time.Since(t)
					}
					u.Report(b)
					b.ReportMetric(float64(apply)/float64(b.N)/1e6, "apply-ms")
					b.ReportMetric(float64(full)/1e6, "full-apply-ms")
					if got, err := a.Read(ctx); err != nil || !nft.Diff(got, u.Ruleset).IsEmpty() {
						b.Fatalf("the kernel's table is not the last ruleset (read error %v)", err)
					}
				})
			}
		}
	}
}

// BenchmarkPrivilegedSync is the agent's own path for one change on
// node-0, as a live source hands it (a snapshot and a Delta): Agent.Sync
// with the netlink applier in a private network namespace, logging at
// info level to nowhere. pod-add adds a pod on node-0; pod-delete deletes
// one (added, untimed, just before); policy-change toggles a port of a
// NetworkPolicy that selects pods on node-0. It is the end-to-end figure
// of a change.
func BenchmarkPrivilegedSync(b *testing.B) {
	for _, cfg := range []synth.Config{
		{Pods: 1000, Policies: 200, AdminPolicies: 10},
		{Pods: 10000, Policies: 2000},
		{Pods: 10000, Policies: 2000, AdminPolicies: 100},
	} {
		for _, change := range append(slices.Clone(compiletest.Changes), "pod-delete") {
			b.Run(fmt.Sprintf("pods=%d/admin=%d/%s", cfg.Pods, cfg.AdminPolicies, change), func(b *testing.B) {
				ns := netnstest.New(b)
				nl, err := dataplane.New(dataplane.Config{NetNS: int(ns)})
				if err != nil {
					b.Fatal(err)
				}
				defer nl.Close()
				snap := compiletest.Synth(b, cfg)
				a, err := agent.New(agent.Config{NodeName: "node-0", Applier: nl, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if err := a.Sync(ctx, agent.Update{Snapshot: snap}); err != nil {
					b.Fatal(err)
				}
				var template *model.Endpoint
				var local []*model.Endpoint
				for _, ep := range snap.Endpoints {
					if ep.NodeName == "node-0" && ep.Kind == model.EndpointPod {
						local = append(local, ep)
						if template == nil && ep.Namespace != "kube-system" && ep.Namespace != "monitoring" {
							template = ep
						}
					}
				}
				policies := compiletest.PolicyVariants(b, snap, local)
				at := slices.Index(snap.Policies, policies[0])
				n := 0
				step := func() {
					n++
					next := *snap // a new state; namespaces unchanged
					var d agent.Delta
					if change == "pod-add" || change == "pod-delete" {
						ep := *template
						ep.Name = fmt.Sprintf("%s-added-%d", template.Name, n)
						ep.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 201, byte(n >> 8), byte(n)})}
						d.Endpoints = []agent.EndpointChange{{New: &ep}}
						if change == "pod-delete" {
							b.StopTimer()
							added := *snap // a state of its own: Sync skips a snapshot it has seen
							if err := a.Sync(ctx, agent.Update{Snapshot: &added, Delta: &d}); err != nil {
								b.Fatal(err)
							}
							b.StartTimer()
							d.Endpoints = []agent.EndpointChange{{Old: &ep}}
						}
					} else {
						next.Policies = slices.Clone(snap.Policies)
						next.Policies[at] = policies[n%2]
						d.Policies = []agent.PolicyChange{{Old: policies[(n+1)%2], New: policies[n%2]}}
					}
					if err := a.Sync(ctx, agent.Update{Snapshot: &next, Delta: &d}); err != nil {
						b.Fatal(err)
					}
				}
				// The change must reach node-0's ruleset.
				before := nl.Applied()
				step()
				if change == "pod-delete" {
					// Added and deleted: the ruleset is as it was.
					if d := nft.Diff(before, nl.Applied()); !d.IsEmpty() {
						b.Fatalf("adding and deleting a pod left node-0's ruleset changed: %+v", d)
					}
				} else if d := nft.Diff(before, nl.Applied()); len(d.ReplaceChains)+len(d.AddElems)+len(d.AddMapElems) == 0 {
					b.Fatalf("%s does not change node-0's ruleset", change)
				}
				b.ReportAllocs()
				for b.Loop() {
					step()
				}
			})
		}
	}
}
