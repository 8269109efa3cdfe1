package cmdutil

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/kube"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// InputFlags are the flags of every command that analyzes manifests or a
// live cluster.
//
// The input is the manifests at the command's PATH arguments, or a
// cluster: with no PATH and --live, --kubeconfig or --context (or
// $KUBECONFIG set), the command reads the cluster of the kubeconfig
// context, or the in-cluster configuration inside a pod, as kubectl would.
// PATHs and a cluster flag together are a usage error. See docs/live.md.
type InputFlags struct {
	IgnoreInvalid       bool
	IPBlockExternalOnly bool
	ClusterCIDRs        []string

	// Cluster source.
	Live       bool
	Kubeconfig string
	Context    string
	// Posture, set by the audit (not a flag), also reads from a cluster
	// the kinds the posture checks need (kube.Options.Posture), so that
	// Input.Unstructured holds what manifests would give; of ConfigMaps,
	// only those named in PostureConfigMaps.
	Posture           bool
	PostureConfigMaps []string
}

// AddFlags registers the input flags on fs.
func (f *InputFlags) AddFlags(fs *pflag.FlagSet) {
	f.AddEngineFlags(fs)
	fs.BoolVar(&f.Live, "live", false, "read the live cluster of the current kubeconfig context (or the in-cluster configuration in a pod) instead of manifests; implied by --kubeconfig, --context, and $KUBECONFIG when no PATH is given")
	f.AddClusterFlags(fs)
}

// AddEngineFlags registers the flags that say how to read the objects:
// --ignore-invalid, --ipblock-external-only and --cluster-cidr.
func (f *InputFlags) AddEngineFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.IgnoreInvalid, "ignore-invalid", false, "analyze the valid objects when some are invalid, as the cluster would (it rejects the invalid ones); warns per rejected object")
	fs.BoolVar(&f.IPBlockExternalOnly, "ipblock-external-only", false, "ipBlocks match only addresses outside the cluster, as some CNIs implement them (default: they also match pods whose IP they contain)")
	fs.StringSliceVar(&f.ClusterCIDRs, "cluster-cidr", nil, "address ranges of the cluster (pod and service CIDRs) to leave out of the external endpoints; repeatable")
}

// AddClusterFlags registers the flags that choose a cluster, --kubeconfig
// and --context, for commands that only read clusters.
func (f *InputFlags) AddClusterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "kubeconfig file of the cluster to read (default: $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&f.Context, "context", "", "kubeconfig context of the cluster to read (default: the current context)")
}

// Args validates a command's PATH arguments: at least one, unless a
// cluster is chosen. Commands that take PATHs use it as cobra's Args.
func (f *InputFlags) Args(cmd *cobra.Command, args []string) error {
	if _, err := f.FromCluster(args); err != nil {
		return err
	}
	if len(args) == 0 && !f.clusterChosen(args) {
		return Invalidf("no input: give manifest files or directories (- for stdin), or read a cluster with --live, --context or --kubeconfig (see '%s --help')", cmd.CommandPath())
	}
	return nil
}

// FromCluster reports whether the input is a live cluster rather than the
// manifests at paths. An explicit cluster flag with paths is an error.
func (f *InputFlags) FromCluster(paths []string) (bool, error) {
	explicit := f.Live || f.Kubeconfig != "" || f.Context != ""
	if explicit && len(paths) > 0 {
		return false, Invalidf("give manifests (PATH...) or a cluster (--live, --kubeconfig, --context), not both")
	}
	return f.clusterChosen(paths), nil
}

func (f *InputFlags) clusterChosen(paths []string) bool {
	if len(paths) > 0 {
		return false
	}
	return f.Live || f.Kubeconfig != "" || f.Context != "" || os.Getenv("KUBECONFIG") != ""
}

// Cluster loads the client configuration of the chosen cluster.
func (f *InputFlags) Cluster() (*kube.Cluster, error) {
	c, err := kube.Config{Kubeconfig: f.Kubeconfig, Context: f.Context}.Connect()
	if err != nil {
		return nil, Invalid(err)
	}
	return c, nil
}

// EngineOptions returns the engine options the flags ask for.
func (f *InputFlags) EngineOptions() (eval.Options, error) {
	opts := eval.Options{IPBlockExternalOnly: f.IPBlockExternalOnly}
	for _, c := range f.ClusterCIDRs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return opts, Invalidf("--cluster-cidr %q: %v", c, err)
		}
		opts.ClusterCIDRs = append(opts.ClusterCIDRs, p)
	}
	return opts, nil
}

// Input is what a command analyzes.
type Input struct {
	Snapshot *model.Snapshot
	Objects  []manifest.Object
	// Unstructured are the objects of kinds the model leaves out (never
	// Secrets), for the audit: every such kind from manifests, the posture
	// kinds from a cluster when InputFlags.Posture is set.
	Unstructured []manifest.Unstructured
	Engine       *eval.Engine
	// Cluster names the cluster read (kube.Cluster.Name), "" for
	// manifests.
	Cluster string
}

// Load reads the manifests at paths ("-" is stdin), or the cluster the
// flags choose (see InputFlags), reports problems on streams.ErrOut and
// builds the engine. Invalid objects fail the command with exit status 2
// unless --ignore-invalid is set, in which case each is reported as a
// warning and left out.
//
// A cluster is modelled from the same objects as manifests (namespaces,
// nodes, pods, workloads, NetworkPolicies and the network-policy-api
// kinds whose CRDs are installed), all namespaces included: -n of the
// commands filters what they show, never what is read, because policies
// in other namespaces select pods through namespaceSelectors.
func (f *InputFlags) Load(ctx context.Context, streams IOStreams, log *slog.Logger, paths []string) (*Input, error) {
	live, err := f.FromCluster(paths)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 && !live {
		return nil, Invalidf("no input: give manifest files or directories (- for stdin), or read a cluster with --live, --context or --kubeconfig")
	}
	opts, err := f.EngineOptions()
	if err != nil {
		return nil, err
	}
	var snap *model.Snapshot
	var objs []manifest.Object
	var unstr []manifest.Unstructured
	var name string
	if live {
		res, c, err := f.ReadCluster(ctx, streams, log)
		if err != nil {
			return nil, err
		}
		snap, objs, unstr, name = res.Snapshot, res.Objects, res.Unstructured, c.Name()
	} else {
		res, err := manifest.Load(paths, streams.In, manifest.Options{})
		if err != nil {
			return nil, Invalid(err)
		}
		snap, objs, unstr = res.Snapshot, res.Objects, res.Unstructured
	}
	if err := ReportProblems(streams, snap, f.IgnoreInvalid); err != nil {
		return nil, err
	}
	if log.Enabled(ctx, slog.LevelDebug) {
		for _, s := range snap.SkippedObjects {
			log.Debug("skipped object of a kind bulkhead does not model", "object", s.String())
		}
	}
	if !live {
		// The audit reads the posture kinds: they are not skipped for it.
		n := 0
		kinds := make([]string, 0, len(snap.Skipped))
		for k, c := range snap.Skipped {
			if ok, _ := kube.PostureKind(k); f.Posture && ok {
				continue
			}
			n += c
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, c))
		}
		sort.Strings(kinds)
		if n > 0 {
			fmt.Fprintf(streams.ErrOut, "note: skipped %d object(s) that policies do not involve (%s); -v lists them\n", n, strings.Join(kinds, ", "))
		}
	}
	e := eval.New(snap, opts)
	NoteFamilySplits(streams, e)
	return &Input{Snapshot: snap, Objects: objs, Unstructured: unstr, Engine: e, Cluster: name}, nil
}

// NoteFamilySplits says on stderr when rules match dual-stack endpoints
// over one address family only: the engine then decides for both families
// alike (eval.FamilySplit), and the user should know which answers that
// concerns rather than trust them silently.
func NoteFamilySplits(streams IOStreams, e *eval.Engine) {
	splits := e.FamilySplits()
	if len(splits) == 0 {
		return
	}
	fmt.Fprintf(streams.ErrOut, "note: %d rule(s) match dual-stack endpoints over one address family only, e.g. %s; bulkhead decides per endpoint, so their connections over the other family may differ from what is shown (see Known limits in the README)\n",
		len(splits), splits[0])
}

// ReadCluster reads the chosen cluster, with a progress line on
// streams.ErrOut for large clusters, and reports the network-policy-api
// kinds it does not serve.
func (f *InputFlags) ReadCluster(ctx context.Context, streams IOStreams, log *slog.Logger) (*kube.Result, *kube.Cluster, error) {
	c, err := f.Cluster()
	if err != nil {
		return nil, nil, err
	}
	res, err := c.Read(ctx, kube.Options{Progress: streams.ErrOut, Terminal: IsTerminal(streams.ErrOut), Log: log,
		Posture: f.Posture, PostureConfigMaps: f.PostureConfigMaps})
	if err != nil {
		return nil, nil, Invalid(err)
	}
	ReportMissingKinds(streams, log, res.Served, res.Missing)
	return res, c, nil
}

// ReportMissingKinds says which network-policy-api kinds the cluster does
// not serve: a warning when it serves none of them (only NetworkPolicies
// are then in force, which is worth knowing), and a log line with -v when
// it serves some (AdminNetworkPolicy and BaselineAdminNetworkPolicy are
// deprecated for ClusterNetworkPolicy, so their absence is normal).
func ReportMissingKinds(streams IOStreams, log *slog.Logger, served, missing []string) {
	if len(missing) == 0 {
		return
	}
	if len(served) == 0 {
		fmt.Fprintf(streams.ErrOut, "warning: the cluster serves none of the cluster-wide policy kinds (%s): their CRDs are not installed, so only NetworkPolicies apply\n", strings.Join(missing, ", "))
		return
	}
	log.Info("the cluster does not serve these policy kinds (CRD not installed)", "kinds", strings.Join(missing, ","), "served", strings.Join(served, ","))
}

// ReportProblems prints the snapshot's problems on ErrOut. Errors fail
// with exit status 2 unless ignore is set; then they are warnings.
func ReportProblems(streams IOStreams, snap *model.Snapshot, ignore bool) error {
	nerr := 0
	for _, p := range snap.Problems {
		switch {
		case p.Severity == model.SeverityError && !ignore:
			nerr++
			fmt.Fprintln(streams.ErrOut, "error:", p.Error())
		case p.Severity == model.SeverityError:
			fmt.Fprintln(streams.ErrOut, "warning: ignoring invalid object:", p.Error())
		case p.Severity == model.SeverityWarning:
			fmt.Fprintln(streams.ErrOut, "warning:", p.Error())
		}
	}
	if nerr > 0 {
		return &ExitError{Code: ExitInvalid, Err: fmt.Errorf("%d invalid object field(s); fix them, or analyze the rest with --ignore-invalid", nerr)}
	}
	return nil
}

// IsTerminal reports whether w is a terminal (and colour is not turned
// off), for progress lines rewritten in place.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}
