package watch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/kube/livetest"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestMain shares one API server between the package's live tests.
func TestMain(m *testing.M) { kubetest.Main(m) }

// waiter is watch's stdout for the benchmark: it notes when the line of an
// awaited event is written.
type waiter struct {
	mu      sync.Mutex
	waiting map[string]chan time.Time
	partial []byte
}

func (w *waiter) expect(event string) chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.waiting[event] = ch
	w.mu.Unlock()
	return ch
}

func (w *waiter) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		for ev, ch := range w.waiting {
			if strings.HasSuffix(line, " "+ev) || strings.Contains(line, " "+ev+" (") {
				ch <- now
				delete(w.waiting, ev)
			}
		}
	}
	return len(p), nil
}

// BenchmarkWatchEvent measures, through the real API server, the time
// from an API write (a pod or NetworkPolicy created or deleted) to the
// line `bulkhead watch` prints for it, at 10,000 pods and 2,000 policies:
// p50 and p99 in ms, and where the time goes (the watch delivering the
// event, modelling it, the engine, printing). It also reports the initial
// sync: from starting watch to its first complete analysis.
//
//	go test ./internal/cli/watch -run '^$' -bench WatchEvent -benchtime 200x
func BenchmarkWatchEvent(b *testing.B) {
	pods := 10000
	if testing.Short() {
		pods = 1000
	}
	env := kubetest.Start(b)
	c := synth.Generate(synth.Config{Pods: pods, Policies: pods / 5, Seed: 1})
	took := livetest.CreateCluster(b, env.Config(), c)
	b.Logf("created %d pods, %d policies, %d namespaces in %v", len(c.Pods), len(c.Policies), len(c.Namespaces), took.Round(time.Millisecond))

	out := &waiter{waiting: map[string]chan time.Time{}}
	var errOut bytes.Buffer
	var errMu sync.Mutex
	streams := cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: syncWriter{&errMu, &errOut}}
	f := &flagpole{output: "txt"}
	f.input.Kubeconfig = env.Kubeconfig
	f.input.ClusterCIDRs = []string{"10.0.0.0/8"}
	var tmu sync.Mutex
	var timings []Timing
	onBatch := func(t Timing) {
		tmu.Lock()
		timings = append(timings, t)
		tmu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- run(ctx, streams, slog.New(slog.DiscardHandler), f, onBatch) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("watch: %v", err)
		}
	}()
	for {
		errMu.Lock()
		s := errOut.String()
		errMu.Unlock()
		if strings.Contains(s, "changes follow") {
			break
		}
		select {
		case err := <-done:
			b.Fatalf("watch ended: %v\n%s", err, s)
		case <-time.After(10 * time.Millisecond):
		}
	}
	syncTime := time.Since(start)
	errMu.Lock()
	b.Logf("watch synced in %v: %s", syncTime.Round(time.Millisecond), strings.TrimSpace(errOut.String()))
	errMu.Unlock()

	cs, err := kubernetes.NewForConfig(env.Config())
	if err != nil {
		b.Fatal(err)
	}
	template := c.Pods[len(c.Pods)/2]
	var policy *networkingv1.NetworkPolicy
	for _, p := range c.Policies {
		if p.Namespace == template.Namespace {
			policy = p
		}
	}
	bctx := context.Background()
	// measure runs write and waits until watch prints event.
	var sent []time.Time
	measure := func(b *testing.B, event string, write func() error) time.Duration {
		ch := out.expect(event)
		t0 := time.Now()
		sent = append(sent, t0)
		if err := write(); err != nil {
			b.Fatal(err)
		}
		select {
		case t1 := <-ch:
			return t1.Sub(t0)
		case <-time.After(30 * time.Second):
			b.Fatalf("watch never printed %q", event)
		}
		return 0
	}
	events := []struct {
		name     string
		do, undo func(i int) (event string, write func() error)
	}{
		{"pod", func(i int) (string, func() error) {
			p := template.DeepCopy()
			p.Name = fmt.Sprintf("bench-%d", i)
			p.Status = corev1.PodStatus{}
			return "pod " + p.Namespace + "/" + p.Name + " added", func() error {
				_, err := cs.CoreV1().Pods(p.Namespace).Create(bctx, p, metav1.CreateOptions{})
				return err
			}
		}, func(i int) (string, func() error) {
			name := fmt.Sprintf("bench-%d", i)
			return "pod " + template.Namespace + "/" + name + " deleted", func() error {
				return cs.CoreV1().Pods(template.Namespace).Delete(bctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
			}
		}},
		{"pod-new-labels", func(i int) (string, func() error) {
			p := template.DeepCopy()
			p.Name = fmt.Sprintf("bench-new-%d", i)
			p.Labels = map[string]string{"app": fmt.Sprintf("bench-%d", i), "tier": "backend"}
			p.Status = corev1.PodStatus{}
			return "pod " + p.Namespace + "/" + p.Name + " added", func() error {
				_, err := cs.CoreV1().Pods(p.Namespace).Create(bctx, p, metav1.CreateOptions{})
				return err
			}
		}, func(i int) (string, func() error) {
			name := fmt.Sprintf("bench-new-%d", i)
			return "pod " + template.Namespace + "/" + name + " deleted", func() error {
				return cs.CoreV1().Pods(template.Namespace).Delete(bctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
			}
		}},
		{"networkpolicy-deny-ingress", func(i int) (string, func() error) {
			p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-deny-%d", i), Namespace: template.Namespace},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
			return "networkpolicy " + p.Namespace + "/" + p.Name + " added", func() error {
				_, err := cs.NetworkingV1().NetworkPolicies(p.Namespace).Create(bctx, p, metav1.CreateOptions{})
				return err
			}
		}, func(i int) (string, func() error) {
			name := fmt.Sprintf("bench-deny-%d", i)
			return "networkpolicy " + template.Namespace + "/" + name + " deleted", func() error {
				return cs.NetworkingV1().NetworkPolicies(template.Namespace).Delete(bctx, name, metav1.DeleteOptions{})
			}
		}},
		{"networkpolicy", func(i int) (string, func() error) {
			p := policy.DeepCopy()
			p.Name = fmt.Sprintf("bench-%d", i)
			return "networkpolicy " + p.Namespace + "/" + p.Name + " added", func() error {
				_, err := cs.NetworkingV1().NetworkPolicies(p.Namespace).Create(bctx, p, metav1.CreateOptions{})
				return err
			}
		}, func(i int) (string, func() error) {
			name := fmt.Sprintf("bench-%d", i)
			return "networkpolicy " + policy.Namespace + "/" + name + " deleted", func() error {
				return cs.NetworkingV1().NetworkPolicies(policy.Namespace).Delete(bctx, name, metav1.DeleteOptions{})
			}
		}},
	}
	for _, ev := range events {
		b.Run(fmt.Sprintf("pods=%d/%s", pods, ev.name), func(b *testing.B) {
			tmu.Lock()
			timings = nil
			tmu.Unlock()
			sent = nil
			var lat []time.Duration
			i := 0
			for b.Loop() {
				e, w := ev.do(i)
				lat = append(lat, measure(b, e, w))
				e, w = ev.undo(i)
				lat = append(lat, measure(b, e, w))
				i++
			}
			tmu.Lock()
			defer tmu.Unlock()
			report(b, lat, sent, timings)
			changes := 0
			for _, t := range timings {
				changes += t.Changes
			}
			b.ReportMetric(float64(changes)/float64(len(lat)), "conns-changed/event")
			b.ReportMetric(syncTime.Seconds(), "sync-s")
		})
	}
}

// report adds the latency percentiles and the breakdown per stage.
func report(b *testing.B, lat []time.Duration, sent []time.Time, ts []Timing) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(ds []time.Duration, p float64) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[min(len(s)-1, int(float64(len(s))*p))]
	}
	b.ReportMetric(ms(pct(lat, 0.5)), "p50-ms")
	b.ReportMetric(ms(pct(lat, 0.99)), "p99-ms")
	var model, engine, print []time.Duration
	rebuilds := 0
	for _, t := range ts {
		model = append(model, t.Modelled.Sub(t.Received))
		engine = append(engine, t.Evaluated.Sub(t.Modelled))
		print = append(print, t.Printed.Sub(t.Evaluated))
		if t.Rebuilt {
			rebuilds++
		}
	}
	if len(ts) == len(sent) {
		// One batch per event: the watch's delivery is its own stage.
		var deliver []time.Duration
		for i, t := range ts {
			deliver = append(deliver, t.Received.Sub(sent[i]))
		}
		b.ReportMetric(ms(pct(deliver, 0.5)), "deliver-p50-ms")
		b.ReportMetric(ms(pct(deliver, 0.99)), "deliver-p99-ms")
	}
	if len(ts) > 0 {
		b.ReportMetric(ms(pct(model, 0.5)), "model-p50-ms")
		b.ReportMetric(ms(pct(engine, 0.5)), "engine-p50-ms")
		b.ReportMetric(ms(pct(engine, 0.99)), "engine-p99-ms")
		b.ReportMetric(ms(pct(print, 0.5)), "print-p50-ms")
		b.ReportMetric(float64(rebuilds)/float64(len(ts)), "rebuilds/batch")
		b.ReportMetric(float64(len(ts))/float64(len(lat)), "batches/event")
	}
	b.ReportMetric(0, "ns/op") // the wall time per iteration includes the API writes; the figures above are the measure
}

type syncWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
