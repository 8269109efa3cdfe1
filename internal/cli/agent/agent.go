// Package agent implements `bulkhead agent`: the node agent that keeps a
// node's nftables ruleset in step with the cluster's policies.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulkhead/bulkhead/agent"
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/kube"
)

type flagpole struct {
	nodeName       string
	netns          string
	table          string
	metricsAddress string
	pollInterval   time.Duration
	resync         time.Duration
	once           bool
	ignoreInvalid  bool
	extOnly        bool
	clusterCIDRs   []string
	logLevel       string
	logFormat      string
	live           bool
	kubeconfig     string
	kubeContext    string
}

// DefaultMetricsAddress is where the agent serves /metrics unless told
// otherwise: loopback only, as the DaemonSet runs on the host network.
const DefaultMetricsAddress = "127.0.0.1:9743"

// NewCommand returns the agent command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "agent --node-name NODE (PATH... | --live)",
		Short: "Enforce the policies on this node with nftables, following the cluster",
		Long: `Agent enforces the cluster's policies for the pods of one node: it compiles
them into one nftables table, "table inet bulkhead", applies it over netlink
in one atomic transaction, and keeps it in step as the cluster changes. It
touches no other table.

The cluster's state is read from manifests (files or directories, re-read
when they change), or with --live (or --kubeconfig, --context) from the API
server, followed with watches; the node's pods are those whose
spec.nodeName is --node-name. Every change is logged with the chains, policies and pods it
concerns; /metrics on --metrics-address exports the ruleset's size, sync
durations and errors.

The agent fails closed: a state that cannot be read, compiled or applied
leaves the ruleset in force, and is logged, counted and retried. Stopping
the agent leaves the ruleset in force too; a restarted agent replaces the
table whole with its first transaction. See docs/enforcement.md.`,
		Example: `  bulkhead agent --node-name node-1 /etc/bulkhead/manifests
  bulkhead agent --node-name "$NODE_NAME" --live
  bulkhead agent --node-name "$NODE_NAME" --once cluster/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, f, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.nodeName, "node-name", os.Getenv("NODE_NAME"), "the node whose pods to enforce (default $NODE_NAME)")
	fs.StringVar(&f.netns, "netns", "", "network namespace to program, as a path (/run/netns/NAME, /proc/PID/ns/net); default: the agent's own")
	fs.StringVar(&f.table, "table", "", "table name (tests only; default bulkhead)")
	_ = fs.MarkHidden("table")
	fs.StringVar(&f.metricsAddress, "metrics-address", DefaultMetricsAddress, "address to serve /metrics and /healthz on; empty disables")
	fs.DurationVar(&f.pollInterval, "poll-interval", 2*time.Second, "how often to check the manifests for changes")
	fs.DurationVar(&f.resync, "resync", 5*time.Minute, "how often to check the kernel's table against the applied ruleset and repair it; 0 disables")
	fs.BoolVar(&f.once, "once", false, "apply the ruleset once and exit (exit status 1 if it could not be applied)")
	fs.BoolVar(&f.ignoreInvalid, "ignore-invalid", false, "enforce the valid objects when some are invalid, as the cluster would (it rejects the invalid ones); default: keep the ruleset in force")
	fs.BoolVar(&f.extOnly, "ipblock-external-only", false, "ipBlocks match only addresses outside the cluster, as some CNIs implement them")
	fs.StringSliceVar(&f.clusterCIDRs, "cluster-cidr", nil, "address ranges of the cluster (pod and service CIDRs); repeatable")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&f.live, "live", false, "follow the API server of the current kubeconfig context (in a pod: its service account) instead of manifests")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file of the cluster to follow (implies --live)")
	fs.StringVar(&f.kubeContext, "context", "", "kubeconfig context of the cluster to follow (implies --live)")
	return cmd
}

func run(ctx context.Context, streams cmdutil.IOStreams, f *flagpole, paths []string) error {
	if f.nodeName == "" {
		return cmdutil.Invalidf("--node-name is required (or set $NODE_NAME)")
	}
	log, err := newLogger(streams.ErrOut, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	opts := eval.Options{IPBlockExternalOnly: f.extOnly}
	for _, c := range f.clusterCIDRs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return cmdutil.Invalidf("--cluster-cidr %q: %v", c, err)
		}
		opts.ClusterCIDRs = append(opts.ClusterCIDRs, p)
	}
	live := f.live || f.kubeconfig != "" || f.kubeContext != ""
	switch {
	case live && len(paths) > 0:
		return cmdutil.Invalidf("give manifest PATHs or --live (--kubeconfig, --context), not both")
	case !live && len(paths) == 0:
		return cmdutil.Invalidf("no cluster state: give manifest files or directories, or --live")
	case live && f.once:
		return cmdutil.Invalidf("--once reads manifests; it does not follow a live cluster")
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return cmdutil.Invalidf("%v", err)
		}
	}
	applier, closeApplier, err := newApplier(f.table, f.netns, log)
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitFindings, Err: fmt.Errorf("dataplane: %w", err)}
	}
	defer closeApplier()
	resync := f.resync
	if resync == 0 {
		resync = -1
	}
	manifests := &agent.ManifestSource{Paths: paths, PollInterval: f.pollInterval, Resync: resync, Logger: log}
	var src agent.Source = manifests
	if live {
		cluster, err := kube.Config{Kubeconfig: f.kubeconfig, Context: f.kubeContext}.Connect()
		if err != nil {
			return cmdutil.Invalid(err)
		}
		log.Info("following the cluster", "cluster", cluster.Name())
		src = agent.KubeSource{Syncer: cluster.Syncer(kube.SyncOptions{Options: kube.Options{Log: log, PodsOnly: true}, Resync: resync})}
	}
	a, err := agent.New(agent.Config{
		NodeName: f.nodeName, Source: src, Applier: applier, Engine: opts, Table: f.table,
		IgnoreInvalid: f.ignoreInvalid, Logger: log,
	})
	if err != nil {
		return cmdutil.Invalid(err)
	}
	if f.once {
		return runOnce(ctx, a, manifests)
	}
	if f.metricsAddress != "" {
		stop, err := serveMetrics(ctx, f.metricsAddress, a, log)
		if err != nil {
			return &cmdutil.ExitError{Code: cmdutil.ExitFindings, Err: err}
		}
		defer stop()
	}
	return a.Run(ctx)
}

// runOnce syncs once from the manifests.
func runOnce(ctx context.Context, a *agent.Agent, src *agent.ManifestSource) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		_ = onceSource{src}.Run(ctx, a.Sync)
		close(done)
	}()
	<-done
	select {
	case <-a.Synced():
		return nil
	default:
		return &cmdutil.ExitError{Code: cmdutil.ExitFindings, Err: errors.New("the ruleset was not applied (see the log above)")}
	}
}

// onceSource hands the source's first state and stops.
type onceSource struct{ src *agent.ManifestSource }

func (o onceSource) Run(ctx context.Context, apply func(context.Context, agent.Update) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return o.src.Run(ctx, func(ctx context.Context, u agent.Update) error {
		err := apply(ctx, u)
		cancel() // one state only
		return err
	})
}

// serveMetrics serves /metrics and /healthz (200 once a ruleset is
// applied) on addr until ctx ends or stop is called.
func serveMetrics(ctx context.Context, addr string, a *agent.Agent, log *slog.Logger) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, cmdutil.Invalidf("--metrics-address %q: %v", addr, err)
	}
	if ip, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !ip.IsLoopback()) {
		log.Warn("serving metrics on a non-loopback address: on the host network the node's neighbours can read them", "address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.Metrics().Handler())
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-a.Synced():
			fmt.Fprintln(w, "ok")
		default:
			http.Error(w, "no ruleset applied yet", http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "address", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, cmdutil.Invalidf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, cmdutil.Invalidf("--log-format %q: want text or json", format)
}
