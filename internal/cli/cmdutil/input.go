package cmdutil

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/spf13/pflag"
)

// InputFlags are the flags of every command that analyzes manifests.
type InputFlags struct {
	IgnoreInvalid       bool
	IPBlockExternalOnly bool
	ClusterCIDRs        []string
}

// AddFlags registers the input flags on fs.
func (f *InputFlags) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.IgnoreInvalid, "ignore-invalid", false, "analyze the valid objects when some are invalid, as the cluster would (it rejects the invalid ones); warns per rejected object")
	fs.BoolVar(&f.IPBlockExternalOnly, "ipblock-external-only", false, "ipBlocks match only addresses outside the cluster, as some CNIs implement them (default: they also match pods whose IP they contain)")
	fs.StringSliceVar(&f.ClusterCIDRs, "cluster-cidr", nil, "address ranges of the cluster (pod and service CIDRs) to leave out of the external endpoints; repeatable")
}

// Input is what a command analyzes.
type Input struct {
	Snapshot *model.Snapshot
	Objects  []manifest.Object
	Engine   *eval.Engine
}

// Load reads the manifests at paths ("-" is stdin), reports problems on
// streams.ErrOut and builds the engine. Invalid objects fail the command
// with exit status 2 unless --ignore-invalid is set, in which case each is
// reported as a warning and left out.
func (f *InputFlags) Load(ctx context.Context, streams IOStreams, log *slog.Logger, paths []string) (*Input, error) {
	if len(paths) == 0 {
		return nil, Invalidf("no input: give manifest files or directories, or - for stdin")
	}
	opts := eval.Options{IPBlockExternalOnly: f.IPBlockExternalOnly}
	for _, c := range f.ClusterCIDRs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return nil, Invalidf("--cluster-cidr %q: %v", c, err)
		}
		opts.ClusterCIDRs = append(opts.ClusterCIDRs, p)
	}
	res, err := manifest.Load(paths, streams.In, manifest.Options{})
	if err != nil {
		return nil, Invalid(err)
	}
	snap := res.Snapshot
	if err := ReportProblems(streams, snap, f.IgnoreInvalid); err != nil {
		return nil, err
	}
	if log.Enabled(ctx, slog.LevelDebug) {
		for _, s := range snap.SkippedObjects {
			log.Debug("skipped object of a kind bulkhead does not model", "object", s.String())
		}
	}
	if n := len(snap.SkippedObjects); n > 0 {
		kinds := make([]string, 0, len(snap.Skipped))
		for k, c := range snap.Skipped {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, c))
		}
		sort.Strings(kinds)
		log.Info("skipped objects", "count", n, "kinds", strings.Join(kinds, ","))
	}
	return &Input{Snapshot: snap, Objects: res.Objects, Engine: eval.New(snap, opts)}, nil
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
