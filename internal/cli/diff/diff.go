// Package diff implements `bulkhead diff`: the connections a change of
// manifests adds, removes or changes, with the policy, endpoint and
// namespace changes that caused each; for reviewers and for CI.
package diff

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/render/table"
	"github.com/bulkhead/bulkhead/review/diff"
	"github.com/spf13/cobra"
)

type flagpole struct {
	input  cmdutil.InputFlags
	output string
	git    string
	failOn string
	limit  int
}

// NewCommand returns the diff command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW | diff --git REV1..REV2 PATH...",
		Short: "Show the connections a change adds, removes or changes, and why",
		Long: `Diff compares the connectivity of two sets of manifests and lists every
connection added, removed or changed, with what caused it: the policies added,
removed or changed that decide the connection on either side (egress of the
source, ingress of the destination), and endpoints or namespaces added,
removed or relabelled.

The two sides are two paths (files or directories), or with --git the same
paths at two revisions of the git repository of the current directory:
REV1..REV2, REV1...REV2 (from their merge base to REV2, as a pull request
shows it), or REV alone (REV against the working tree).

With a cluster (--live, --context or --kubeconfig) and PATH..., diff shows
what applying the manifests would do: the old side is the cluster, the new
side the cluster with the manifests' objects applied over it (an object of
the same kind, namespace and name replaced, others added, as kubectl apply
does; nothing deleted). A workload's new pod template shows only once its
pods roll out, so the new side keeps the cluster's pods.

-o md writes a summary ready to paste in a pull-request comment. --fail-on
makes the exit status 1 when the diff adds connections (added: new
connections, or more ports between a pair), removes them (removed), or
changes anything (any).`,
		Example: `  bulkhead diff old/ new/
  bulkhead diff --git main..HEAD deploy/policies/ -o md > comment.md
  bulkhead diff --git origin/main...HEAD deploy/ --fail-on added
  bulkhead diff --context prod deploy/policies/     # what applying them to prod would change`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), streams, log, f, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format: txt, json or md")
	cmd.Flags().StringVar(&f.git, "git", "", "compare PATHs at two git revisions: REV1..REV2, REV1...REV2, or REV (against the working tree)")
	cmd.Flags().StringVar(&f.failOn, "fail-on", "", "exit with status 1 when connections are: added, removed, or any (changed at all)")
	cmd.Flags().IntVar(&f.limit, "limit", 100, "with -o md, list at most this many connection changes (0: all)")
	return cmd
}

// side is one side of the comparison.
type side struct {
	label  string
	engine *eval.Engine
}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, args []string) error {
	format, err := render.ParseFormat(f.output, diff.Formats...)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	switch f.failOn {
	case "", "added", "removed", "any":
	default:
		return cmdutil.Invalidf("--fail-on %q: want added, removed or any", f.failOn)
	}
	if f.limit < 0 {
		return cmdutil.Invalidf("--limit must not be negative")
	}
	var old, new side
	cluster := f.input.Live || f.input.Kubeconfig != "" || f.input.Context != ""
	switch {
	case cluster && f.git != "":
		return cmdutil.Invalidf("--git compares revisions of manifests; with a cluster, give the manifests to apply over it")
	case cluster && len(args) == 0:
		return cmdutil.Invalidf("diff with a cluster takes the manifests to apply over it: diff --context NAME PATH...")
	case cluster:
		if old, new, err = f.loadApplied(ctx, streams, log, args); err != nil {
			return err
		}
	case f.git == "":
		if len(args) != 2 {
			return cmdutil.Invalidf("diff takes two paths, OLD and NEW, or --git REV1..REV2 PATH... (see 'bulkhead diff --help')")
		}
		if old, err = f.loadPath(ctx, streams, log, args[0], "old"); err != nil {
			return err
		}
		if new, err = f.loadPath(ctx, streams, log, args[1], "new"); err != nil {
			return err
		}
	default:
		if len(args) == 0 {
			return cmdutil.Invalidf("--git: give the paths to compare, e.g. --git main..HEAD deploy/")
		}
		dir, err := os.Getwd()
		if err != nil {
			return err
		}
		rr, err := parseRevRange(ctx, dir, f.git)
		if err != nil {
			return cmdutil.Invalidf("--git: %v", err)
		}
		if old, err = f.loadGit(ctx, streams, dir, rr.old, args); err != nil {
			return err
		}
		if rr.new == "" {
			old.label = rr.old
			if new, err = f.loadPaths(ctx, streams, log, args, "working tree"); err != nil {
				return err
			}
		} else if new, err = f.loadGit(ctx, streams, dir, rr.new, args); err != nil {
			return err
		}
		if f.git != "" && strings.Contains(f.git, "...") {
			old.label = strings.SplitN(f.git, "...", 2)[0] + " (merge base)"
		}
	}
	r := diff.Compare(old.engine, new.engine, nil, nil)
	o := diff.WriteOptions{Style: table.Style{Color: streams.OutIsTerminal}, Limit: f.limit, Old: old.label, New: new.label}
	if format != render.Markdown {
		o.Limit = 0
	}
	if err := diff.Write(streams.Out, format, r, o); err != nil {
		return err
	}
	fail := false
	switch f.failOn {
	case "added":
		fail = r.Widens()
	case "removed":
		fail = r.Narrows()
	case "any":
		fail = len(r.Conns) > 0
	}
	if fail {
		return &cmdutil.ExitError{Code: cmdutil.ExitFindings, Err: fmt.Errorf("--fail-on %s: the change %s connections", f.failOn, map[string]string{"added": "adds", "removed": "removes", "any": "changes"}[f.failOn])}
	}
	return nil
}

func (f *flagpole) loadPath(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, path, which string) (side, error) {
	s, err := f.loadPaths(ctx, streams, log, []string{path}, path)
	if err != nil {
		return side{}, fmt.Errorf("%s side: %w", which, err)
	}
	return s, nil
}

func (f *flagpole) loadPaths(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, paths []string, label string) (side, error) {
	in, err := f.input.Load(ctx, streams, log, paths)
	if err != nil {
		return side{}, err
	}
	return side{label: label, engine: in.Engine}, nil
}

// loadApplied reads the cluster (the old side) and models it with the
// objects of the manifests at paths applied over it (the new side).
func (f *flagpole) loadApplied(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, paths []string) (old, new side, err error) {
	res, c, err := f.input.ReadCluster(ctx, streams, log)
	if err != nil {
		return old, new, err
	}
	if err := cmdutil.ReportProblems(streams, res.Snapshot, f.input.IgnoreInvalid); err != nil {
		return old, new, err
	}
	m, err := manifest.Load(paths, streams.In, manifest.Options{})
	if err != nil {
		return old, new, cmdutil.Invalid(err)
	}
	if err := cmdutil.ReportProblems(streams, m.Snapshot, f.input.IgnoreInvalid); err != nil {
		return old, new, err
	}
	if len(m.Objects) == 0 {
		fmt.Fprintf(streams.ErrOut, "warning: no objects of the modelled kinds in %s; comparing the cluster with itself\n", strings.Join(paths, ", "))
	}
	opts, err := f.input.EngineOptions()
	if err != nil {
		return old, new, err
	}
	applied := manifest.NewBuilder(manifest.Options{})
	replaced := map[string]bool{}
	key := func(s model.Source) string { return s.Kind + "\x00" + s.Namespace + "\x00" + s.Name }
	for _, o := range m.Objects {
		replaced[key(o.Source)] = true
	}
	for _, o := range res.Objects {
		if !replaced[key(o.Source)] {
			applied.Add(o.Obj, o.Source)
		}
	}
	for _, o := range m.Objects {
		applied.Add(o.Obj, o.Source)
	}
	old = side{label: c.Name(), engine: eval.New(res.Snapshot, opts)}
	new = side{label: c.Name() + " + " + strings.Join(paths, " "), engine: eval.New(applied.Snapshot(), opts)}
	return old, new, nil
}

// loadGit loads paths at revision rev, with the same input flags as a
// path side.
func (f *flagpole) loadGit(ctx context.Context, streams cmdutil.IOStreams, dir, rev string, paths []string) (side, error) {
	t, err := checkout(ctx, dir, rev, paths)
	if err != nil {
		return side{}, cmdutil.Invalid(err)
	}
	defer t.Close()
	if t.files == 0 {
		fmt.Fprintf(streams.ErrOut, "warning: %s: no manifests under %s; comparing with nothing\n", rev, strings.Join(paths, ", "))
	}
	res := t.load()
	if err := cmdutil.ReportProblems(streams, res.Snapshot, f.input.IgnoreInvalid); err != nil {
		return side{}, err
	}
	opts, err := f.input.EngineOptions()
	if err != nil {
		return side{}, err
	}
	return side{label: rev, engine: eval.New(res.Snapshot, opts)}, nil
}
