package kube_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/kube/livetest"
	"github.com/bulkhead/bulkhead/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// proxy forwards TCP connections to the API server and can be cut (the
// server "goes away": connections reset, new ones refused) and restored.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *proxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// cut closes the listener and every connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *proxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// TestSyncKeepsLastGoodState runs a Syncer through a proxy that fails
// the first start, then cuts the API server off mid-run: the consumer
// keeps being handed the last good snapshot, Health reports the failure,
// and the change made meanwhile arrives once the server is back. The
// consumer's own failures are retried with backoff.
func TestSyncKeepsLastGoodState(t *testing.T) {
	env := kubetest.Shared(t)
	ns := env.Namespace(t, nil)
	env.Apply(t, ns, "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: x}]}\n")

	u, err := url.Parse(env.Host)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	px.cut() // the server is away when the Syncer starts
	cfg := env.Config()
	cfg.Host = "https://" + px.addr

	s := kube.ForConfig(cfg).Syncer(kube.SyncOptions{Options: kube.Options{ProbeEvery: 50 * time.Millisecond}, Resync: 100 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	var calls, failures atomic.Int32
	failures.Store(2)
	updates := runSyncer(t, s, func() error {
		calls.Add(1)
		if failures.Add(-1) >= 0 {
			return errors.New("apply failed")
		}
		return nil
	})

	waitFor(t, "a failed start", func() bool { return s.Status().StartFailures > 0 })
	px.restore()

	// Two failed applies, then the initial snapshot, marked as a retry.
	first := nextUpdate(t, updates)
	if !first.Initial || !first.Resync || calls.Load() < 3 || findEndpoint(first.Snapshot, ns+"/a") == nil {
		t.Fatalf("first applied update: initial=%v resync=%v after %d calls", first.Initial, first.Resync, calls.Load())
	}
	if st := s.Status(); st.ApplyError != nil || st.Applied != first.Snapshot {
		t.Errorf("status after a successful apply: %+v", st)
	}

	// The server goes away; pod a is deleted meanwhile.
	px.cut()
	if err := env.Clientset(t).CoreV1().Pods(ns).Delete(context.Background(), "a", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "watch failures in Health", func() bool { return len(s.Status().Errors) > 0 })
	for range 3 {
		u := nextUpdate(t, updates)
		if !u.Resync || findEndpoint(u.Snapshot, ns+"/a") == nil {
			t.Fatalf("while the server is away: resync=%v, pod a present=%v; want resyncs of the last good state", u.Resync, findEndpoint(u.Snapshot, ns+"/a") != nil)
		}
	}
	if st := s.Status(); st.OK() || st.Since.IsZero() {
		t.Errorf("Health while away: %+v", st.Health)
	}

	// Back: the deletion arrives and Health recovers.
	px.restore()
	gone := awaitUpdate(t, updates, "the deletion made while the server was away", hasEvent("pod "+ns+"/a deleted"))
	if findEndpoint(gone.Snapshot, ns+"/a") != nil {
		t.Error("pod a still in the snapshot")
	}
	waitFor(t, "Health OK again", func() bool { return s.Status().OK() })
}

// runSyncer runs s until the test ends and returns the updates it
// applied. fail, when set, is asked first whether an apply fails.
func runSyncer(t *testing.T, s *kube.Syncer, fail func() error) chan kube.Update {
	updates := make(chan kube.Update, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(_ context.Context, u kube.Update) error {
			if fail != nil {
				if err := fail(); err != nil {
					return err
				}
			}
			updates <- u
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return updates
}

func nextUpdate(t *testing.T, ch chan kube.Update) kube.Update {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(60 * time.Second):
		t.Fatal("no update")
	}
	return kube.Update{}
}

var waitFor = livetest.WaitFor

// TestSyncFollowsPolicyKinds installs the AdminNetworkPolicy CRD while a
// Syncer runs: the informers were started without that kind, so the
// Watcher must notice the new kind, and the Syncer watch again, or the
// new kind's policies would never be seen (nor enforced by the agent).
func TestSyncFollowsPolicyKinds(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ctx := context.Background()
	reinstall := livetest.RemoveCRD(t, env, "policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies")

	s := kube.ForConfig(env.Config()).Syncer(kube.SyncOptions{Options: kube.Options{ProbeEvery: 50 * time.Millisecond, KindsEvery: 50 * time.Millisecond}, MinBackoff: 20 * time.Millisecond})
	updates := runSyncer(t, s, nil)
	if u := nextUpdate(t, updates); !u.Initial {
		t.Fatal("first update is not the initial snapshot")
	}

	// Install the kind again, then one policy of it.
	reinstall()
	anps := env.Dynamic(t).Resource(schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1alpha1", Resource: "adminnetworkpolicies"})
	anp := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
		"metadata": map[string]any{"name": "late-arrival"},
		"spec": map[string]any{"priority": int64(10), "subject": map[string]any{"namespaces": map[string]any{}},
			"ingress": []any{map[string]any{"name": "deny-all", "action": "Deny", "from": []any{map[string]any{"namespaces": map[string]any{}}}}}},
	}}
	if _, err := anps.Create(ctx, anp, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	restarted := false
	awaitUpdate(t, updates, "the AdminNetworkPolicy", func(u kube.Update) bool {
		restarted = restarted || u.Initial
		return slices.ContainsFunc(u.Snapshot.Policies, func(p *model.Policy) bool { return p.Name == "late-arrival" })
	})
	if !restarted {
		t.Error("the new kind arrived without a new initial snapshot")
	}
}

// awaitUpdate reads updates until one satisfies ok, for up to a minute.
func awaitUpdate(t *testing.T, updates chan kube.Update, what string, ok func(kube.Update) bool) kube.Update {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case u := <-updates:
			if ok(u) {
				return u
			}
		case <-deadline:
			t.Fatalf("%s never reached the consumer", what)
		}
	}
}
