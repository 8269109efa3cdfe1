// Package watch implements `bulkhead watch`: it follows a live cluster
// and prints the connections each object change adds, removes or alters,
// as it happens, optionally serving the current analysis, explanations
// and Prometheus metrics over HTTP on a loopback address.
package watch

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

type flagpole struct {
	input      cmdutil.InputFlags
	output     string
	namespaces []string
	all        bool
	listen     string
	probeEvery time.Duration
}

// NewCommand returns the watch command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "watch [--context NAME] [-n NS] [-o json] [--listen ADDR]",
		Short: "Follow a live cluster and print connectivity changes as they happen",
		Long: `Watch reads a live cluster (the current kubeconfig context, --context,
--kubeconfig, or the in-cluster configuration in a pod), analyzes it, and then
follows it with informers: each change of a pod, workload, namespace, node or
policy updates the analysis incrementally, and watch prints the connections it
added (+), removed (-) or changed (~), under the object change that caused
them. With -o json it writes one JSON document per object change, a stream
for other tools.

With --listen it also serves, on a loopback address unless told otherwise:
  /connectivity   the current analysis, as 'analyze -o json' (?namespace=a,b, ?focus=ns/name)
  /explain        ?from=SRC&to=DST[&port=80/TCP], as 'explain -o json'
  /metrics        Prometheus metrics (events, changes, latencies, sizes)
  /healthz        200 while every watch is live, 503 with the failures otherwise

While the API server is unreachable, watch keeps the last known state and
says so on stderr; informers reconnect with backoff.`,
		Example: `  # Follow the current context
  bulkhead watch

  # Only changes from or to two namespaces, as a JSON stream
  bulkhead watch --context prod -n shop-frontend,shop-data -o json

  # Serve the HTTP API and metrics on 127.0.0.1:9090
  bulkhead watch --listen 9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, nil)
		},
	}
	f.input.AddEngineFlags(cmd.Flags())
	f.input.AddClusterFlags(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format: txt or json (one document per line)")
	cmd.Flags().StringSliceVarP(&f.namespaces, "namespace", "n", nil, "show only changes of connections from or to these namespaces (the whole cluster is still read)")
	cmd.Flags().BoolVarP(&f.all, "all-namespaces", "A", false, "show every namespace (the default)")
	cmd.Flags().DurationVar(&f.probeEvery, "probe-interval", 10*time.Second, "how often to check that the API server answers and which cluster-wide policy kinds it serves (a kind installed later restarts the watch)")
	cmd.Flags().StringVar(&f.listen, "listen", "", "serve the HTTP API and metrics on this address: PORT or HOST:PORT (host 127.0.0.1 unless given)")
	return cmd
}

// Timing is when one batch of events went through each stage, for the
// latency figures: the watch delivered it (Received), the model was
// patched (Modelled), the engine applied it (Evaluated) and the changes
// were written (Printed).
type Timing struct {
	Events, Changes                        int
	Received, Modelled, Evaluated, Printed time.Time
	Rebuilt                                bool
}

// session is one run of watch.
type session struct {
	streams cmdutil.IOStreams
	log     *slog.Logger
	f       *flagpole
	format  render.Format
	opts    eval.Options
	metrics *metrics
	onBatch func(Timing)

	mu      sync.RWMutex // guards watcher, tracker (set once synced) and version
	watcher *kube.Watcher
	tracker *eval.Tracker
	synced  time.Time
	version int // batches applied

	// The HTTP API answers from an engine of its own, built from the
	// tracker's snapshot on the first request after a change: rendering a
	// large answer then never holds up the watch, and requests see a
	// consistent, fully built engine.
	readMu      sync.Mutex
	readEngine  *eval.Engine
	readVersion int

	problems map[string]bool
	// kindsChange is the change of policy kinds that restarted the watch.
	kindsChange *kube.KindsChangedError
}

// run runs the command; onBatch, when set, is told the timing of every
// batch (benchmarks).
func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, onBatch func(Timing)) error {
	format, err := render.ParseFormat(f.output, render.Text, render.JSON)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	opts, err := f.input.EngineOptions()
	if err != nil {
		return err
	}
	if f.all {
		f.namespaces = nil
	}
	cluster, err := f.input.Cluster()
	if err != nil {
		return err
	}
	// client-go logs through klog; send it where the command logs.
	klog.SetSlogLogger(log)

	s := &session{streams: streams, log: log, f: f, format: format, opts: opts, onBatch: onBatch, problems: map[string]bool{}}
	kopts := kube.Options{Progress: streams.ErrOut, Terminal: cmdutil.IsTerminal(streams.ErrOut), Log: log, ProbeEvery: f.probeEvery, KindsEvery: f.probeEvery}
	s.watcher = cluster.Watcher(kopts)
	s.metrics = newMetrics(s)

	if f.listen != "" {
		stop, err := s.serve(ctx, f.listen)
		if err != nil {
			return err
		}
		defer stop()
	}
	start := time.Now()
	for {
		err = s.currentWatcher().Run(ctx, func(ctx context.Context, u kube.Update) error {
			switch {
			case u.Initial && s.tracker != nil:
				return s.restarted(u)
			case u.Initial:
				return s.initial(cluster, u, start)
			}
			return s.update(u)
		})
		// A policy kind installed or removed: watch again, and print what
		// the change did to connectivity once the new watch has synced.
		var kc *kube.KindsChangedError
		if !errors.As(err, &kc) || ctx.Err() != nil {
			break
		}
		s.kindsChange = kc
		s.mu.Lock()
		s.watcher = cluster.Watcher(kopts)
		s.mu.Unlock()
	}
	var ee *cmdutil.ExitError
	if err != nil && !errors.As(err, &ee) {
		return cmdutil.Invalid(err)
	}
	return err
}

func (s *session) initial(cluster *kube.Cluster, u kube.Update, start time.Time) error {
	if err := cmdutil.ReportProblems(s.streams, u.Snapshot, s.f.input.IgnoreInvalid); err != nil {
		return err
	}
	for _, p := range u.Snapshot.Problems {
		s.problems[p.Error()] = true
	}
	cmdutil.ReportMissingKinds(s.streams, s.log, s.watcher.Served(), s.watcher.Missing())
	t := eval.NewTracker(u.Snapshot, s.opts)
	var conns int
	t.Read(func(e *eval.Engine) { conns = e.Connectivity().Count() })
	s.mu.Lock()
	s.tracker, s.synced = t, time.Now()
	s.mu.Unlock()
	s.metrics.synced.Set(1)
	took := time.Since(start)
	if s.format == render.JSON {
		return s.write(func(b *bytes.Buffer) error {
			return writeLine(b, startedJSON{APIVersion: render.APIVersion, Kind: "WatchStarted", Time: time.Now().UTC(),
				Cluster: cluster.Name(), Endpoints: len(u.Snapshot.Endpoints), Policies: len(u.Snapshot.Policies),
				Connections: conns, SyncSeconds: took.Seconds()})
		})
	}
	fmt.Fprintf(s.streams.ErrOut, "watching %s: %s endpoints, %s policies, %s connections (synced in %.1fs); changes follow\n",
		cluster.Name(), count(len(u.Snapshot.Endpoints)), count(len(u.Snapshot.Policies)), count(conns), took.Seconds())
	return nil
}

// currentWatcher is the watcher of the current watch; a change of the
// cluster's policy kinds replaces it.
func (s *session) currentWatcher() *kube.Watcher {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.watcher
}

// restarted takes the first snapshot of a watch started again after the
// cluster's policy kinds changed: the whole model is replaced, and the
// connections that changed are printed as caused by the kinds' change.
func (s *session) restarted(u kube.Update) error {
	s.reportProblems(u.Snapshot)
	cmdutil.ReportMissingKinds(s.streams, s.log, s.currentWatcher().Served(), s.currentWatcher().Missing())
	conns := s.tracker.Replace(u.Snapshot)
	s.mu.Lock()
	s.version++
	s.mu.Unlock()
	ev := kube.Event{Op: kube.Updated, Object: model.Source{Kind: "CustomResourceDefinition", Name: "policy kinds"}, Time: u.Modelled}
	if kc := s.kindsChange; kc != nil {
		ev.Detail = kc.Change()
	}
	var mine []eval.ConnChange
	for _, c := range conns {
		if s.inScope(c) {
			mine = append(mine, c)
		}
	}
	return s.write(func(b *bytes.Buffer) error {
		if s.format == render.JSON {
			return writeLine(b, eventDoc(ev, mine))
		}
		writeText(b, ev, mine)
		return nil
	})
}

// update applies one batch of object events to the engine and prints the
// connections they changed.
func (s *session) update(u kube.Update) error {
	tm := Timing{Events: len(u.Events), Received: u.Received, Modelled: u.Modelled}
	s.reportProblems(u.Snapshot)
	changes := evalChanges(u.Delta)
	before := s.tracker.Rebuilds()
	conns := s.tracker.Apply(changes...)
	tm.Evaluated = time.Now()
	tm.Rebuilt = s.tracker.Rebuilds() != before
	s.mu.Lock()
	s.version++
	s.mu.Unlock()

	groups := attribute(u.Events, conns)
	shown := 0
	err := s.write(func(b *bytes.Buffer) error {
		for i, ev := range u.Events {
			var mine []eval.ConnChange
			for _, c := range groups[i] {
				if s.inScope(c) {
					mine = append(mine, c)
				}
			}
			if len(mine) == 0 && !s.eventInScope(ev) {
				continue
			}
			shown += len(mine)
			var err error
			if s.format == render.JSON {
				err = writeLine(b, eventDoc(ev, mine))
			} else {
				writeText(b, ev, mine)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	tm.Printed = time.Now()
	tm.Changes = shown
	s.metrics.observe(u, conns, tm)
	if s.onBatch != nil {
		s.onBatch(tm)
	}
	return err
}

// reportProblems prints the problems that objects gained since the last
// batch: invalid objects seen while watching are warnings (they are left
// out of the model), since a long-running watch cannot refuse them.
func (s *session) reportProblems(snap *model.Snapshot) {
	now := make(map[string]bool, len(snap.Problems))
	for _, p := range snap.Problems {
		msg := p.Error()
		now[msg] = true
		if !s.problems[msg] {
			fmt.Fprintln(s.streams.ErrOut, "warning:", msg)
		}
	}
	s.problems = now
}

// write builds output in a buffer and writes it at once, so that a
// stream reader never sees half a batch.
func (s *session) write(f func(b *bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := f(&b); err != nil {
		return err
	}
	if b.Len() == 0 {
		return nil
	}
	_, err := s.streams.Out.Write(b.Bytes())
	return err
}

func (s *session) inScope(c eval.ConnChange) bool {
	if len(s.f.namespaces) == 0 {
		return true
	}
	return slices.Contains(s.f.namespaces, idNamespace(c.Src)) || slices.Contains(s.f.namespaces, idNamespace(c.Dst))
}

func (s *session) eventInScope(ev kube.Event) bool {
	if len(s.f.namespaces) == 0 {
		return true
	}
	ns := ev.Object.Namespace
	if ev.Object.Kind == "Namespace" {
		ns = ev.Object.Name
	}
	return slices.Contains(s.f.namespaces, ns)
}

// idNamespace returns the namespace of an endpoint ID ("ns/name",
// "ns/name[Kind]"), or "" for nodes and external ranges.
func idNamespace(id string) string {
	ns, _, ok := strings.Cut(id, "/")
	if !ok || strings.Contains(ns, ".") || strings.Contains(ns, ":") {
		return ""
	}
	return ns
}

// evalChanges turns the model delta into the engine's changes:
// namespaces first (an endpoint's namespace must exist before it), then
// nodes, policies and endpoints, then the namespaces that went away.
func evalChanges(d kube.Delta) []eval.Change {
	var out, late []eval.Change
	for _, c := range d.Namespaces {
		if c.New != nil {
			out = append(out, eval.Change{Op: eval.OpUpsert, Namespace: c.New})
		} else {
			late = append(late, eval.Change{Op: eval.OpDelete, Namespace: c.Old})
		}
	}
	for _, c := range d.Nodes {
		if c.New != nil {
			out = append(out, eval.Change{Op: eval.OpUpsert, Node: c.New})
		} else {
			out = append(out, eval.Change{Op: eval.OpDelete, Node: c.Old})
		}
	}
	for _, c := range d.Policies {
		if c.New != nil {
			out = append(out, eval.Change{Op: eval.OpUpsert, Policy: c.New})
		} else {
			out = append(out, eval.Change{Op: eval.OpDelete, Policy: c.Old})
		}
	}
	for _, c := range d.Endpoints {
		if c.New != nil {
			out = append(out, eval.Change{Op: eval.OpUpsert, Endpoint: c.New})
		} else {
			out = append(out, eval.Change{Op: eval.OpDelete, Endpoint: c.Old})
		}
	}
	return append(out, late...)
}

// attribute assigns each connection change to the event that caused it:
// the first event that touched its source or destination endpoint; else
// the first event of the batch that touched no endpoint (a policy,
// namespace or node change); else the batch's first event. With one event
// per batch, the usual case, that is exact.
func attribute(events []kube.Event, changes []eval.ConnChange) [][]eval.ConnChange {
	out := make([][]eval.ConnChange, len(events))
	if len(events) == 0 {
		return out
	}
	byEndpoint := map[string]int{}
	other := -1
	for i, ev := range events {
		for _, id := range ev.Endpoints {
			if _, ok := byEndpoint[id]; !ok {
				byEndpoint[id] = i
			}
		}
		if len(ev.Endpoints) == 0 && other < 0 {
			other = i
		}
	}
	if other < 0 {
		other = 0
	}
	for _, c := range changes {
		i, ok := byEndpoint[c.Src]
		if j, ok2 := byEndpoint[c.Dst]; ok2 && (!ok || j < i) {
			i, ok = j, true
		}
		if !ok {
			i = other
		}
		out[i] = append(out[i], c)
	}
	for _, cs := range out {
		slices.SortFunc(cs, func(a, b eval.ConnChange) int {
			return cmp.Or(strings.Compare(a.Src, b.Src), strings.Compare(a.Dst, b.Dst))
		})
	}
	return out
}

func writeText(b *bytes.Buffer, ev kube.Event, changes []eval.ConnChange) {
	fmt.Fprintf(b, "%s %s\n", ev.Time.Format("15:04:05.000"), ev)
	if len(changes) == 0 {
		b.WriteString("  (no connection changed)\n")
	}
	for _, c := range changes {
		switch c.Kind {
		case eval.Added:
			fmt.Fprintf(b, "  + %s -> %s  %s\n", c.Src, c.Dst, c.New)
		case eval.Removed:
			fmt.Fprintf(b, "  - %s -> %s  %s\n", c.Src, c.Dst, c.Old)
		default:
			fmt.Fprintf(b, "  ~ %s -> %s  %s => %s\n", c.Src, c.Dst, c.Old, c.New)
		}
	}
}

// JSON documents of the stream (docs/live.md).

type startedJSON struct {
	APIVersion  string    `json:"apiVersion"`
	Kind        string    `json:"kind"`
	Time        time.Time `json:"time"`
	Cluster     string    `json:"cluster"`
	Endpoints   int       `json:"endpoints"`
	Policies    int       `json:"policies"`
	Connections int       `json:"connections"`
	SyncSeconds float64   `json:"syncSeconds"`
}

type eventJSON struct {
	Op        string `json:"op"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Detail    string `json:"detail,omitempty"`
}

type changeJSON struct {
	Change string              `json:"change"`
	Src    string              `json:"src"`
	Dst    string              `json:"dst"`
	Old    *render.ConnSetJSON `json:"old,omitempty"`
	New    *render.ConnSetJSON `json:"new,omitempty"`
}

type changeDoc struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Time       time.Time    `json:"time"`
	Event      eventJSON    `json:"event"`
	Changes    []changeJSON `json:"changes"`
}

func eventDoc(ev kube.Event, changes []eval.ConnChange) changeDoc {
	d := changeDoc{APIVersion: render.APIVersion, Kind: "ConnectivityChange", Time: ev.Time.UTC(),
		Event:   eventJSON{Op: ev.Op.String(), Kind: ev.Object.Kind, Namespace: ev.Object.Namespace, Name: ev.Object.Name, Detail: ev.Detail},
		Changes: []changeJSON{}}
	for _, c := range changes {
		cj := changeJSON{Change: c.Kind.String(), Src: c.Src, Dst: c.Dst}
		if c.Kind != eval.Added {
			o := render.ConnSetToJSON(c.Old)
			cj.Old = &o
		}
		if c.Kind != eval.Removed {
			n := render.ConnSetToJSON(c.New)
			cj.New = &n
		}
		d.Changes = append(d.Changes, cj)
	}
	return d
}

// writeLine writes v as one line of JSON.
func writeLine(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// listenAddr makes PORT and :PORT loopback addresses.
func listenAddr(s string) string {
	if !strings.Contains(s, ":") {
		return "127.0.0.1:" + s
	}
	if strings.HasPrefix(s, ":") {
		return "127.0.0.1" + s
	}
	return s
}

// serve starts the HTTP API; the returned function stops it.
func (s *session) serve(ctx context.Context, addr string) (func(), error) {
	ln, err := net.Listen("tcp", listenAddr(addr))
	if err != nil {
		return nil, cmdutil.Invalidf("--listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(s.streams.ErrOut, "serving http://%s (/connectivity, /explain, /metrics, /healthz)\n", ln.Addr())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("HTTP API stopped", "err", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}, nil
}
