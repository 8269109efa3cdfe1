// Package blastradius implements `bulkhead blast-radius`: everything a
// compromised workload can reach, directly and by lateral movement, and
// the ranking of workloads whose compromise reaches the most.
package blastradius

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/bulkhead/bulkhead/blast"
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/internal/cli/cmdutil"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/render/table"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultSensitive is the label selector that marks sensitive endpoints
// when --sensitive is not given.
const DefaultSensitive = "bulkhead.dev/sensitive=true"

type flagpole struct {
	input     cmdutil.InputFlags
	output    string
	maxHops   int
	sensitive string
	rank      bool
	rankBy    string
	top       int
	unknown   bool
}

// NewCommand returns the blast-radius command.
func NewCommand(streams cmdutil.IOStreams, log *slog.Logger) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "blast-radius (ns/name | --from ns/name | --rank) [PATH...]",
		Short: "Show what a compromised workload can reach, directly and by lateral movement",
		Long: `Blast-radius assumes an attacker controls one endpoint (--from: a pod, a
workload, a node or an address) and follows every connection the policies
allow, then every connection allowed from each endpoint reached, and so on:
each pod, workload and node reached is assumed compromised in turn, while
addresses outside the cluster are dead ends (the internet does not move
laterally). It lists every reachable endpoint with its distance in hops and
one shortest path, and marks the sensitive ones (--sensitive, a label
selector matched against the pod's labels or its namespace's labels).

--rank scores every pod and workload by how much its compromise reaches (or
how many sensitive endpoints, with --rank-by sensitive) and lists the top.`,
		Example: `  bulkhead blast-radius shop-frontend/storefront examples/shop
  bulkhead blast-radius shop-frontend/storefront --context prod      # a live cluster
  bulkhead blast-radius examples/shop --from shop-frontend/storefront  # the same, with a flag
  bulkhead blast-radius examples/shop --from shop-frontend/storefront --sensitive app=postgres -o json
  bulkhead blast-radius examples/shop --from 198.51.100.7          # an attacker on the internet
  bulkhead blast-radius examples/shop --rank --sensitive 'app in (postgres,redis)' --rank-by sensitive`,
		Args: func(cmd *cobra.Command, args []string) error {
			if from, _ := cmd.Flags().GetString("from"); from == "" && !f.rank {
				if len(args) == 0 {
					return cmdutil.Invalidf("give the compromised endpoint: blast-radius ns/name [PATH...], or --rank")
				}
				args = args[1:]
			}
			return f.input.Args(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			from, _ := cmd.Flags().GetString("from")
			if from == "" && !f.rank {
				from, args = args[0], args[1:]
			}
			return run(cmd.Context(), streams, log, f, from, args)
		},
	}
	f.input.AddFlags(cmd.Flags())
	cmd.Flags().String("from", "", "the compromised endpoint: ns/name, ns/name[Kind], node[Node] or an IP address")
	cmd.Flags().StringVarP(&f.output, "output", "o", "txt", "output format: txt, json or md")
	cmd.Flags().IntVar(&f.maxHops, "max-hops", 0, "stop after this many hops (0: no limit)")
	cmd.Flags().StringVar(&f.sensitive, "sensitive", DefaultSensitive, "label selector of sensitive endpoints, matched against pod labels and namespace labels")
	cmd.Flags().BoolVar(&f.rank, "rank", false, "rank every pod and workload by what its compromise reaches")
	cmd.Flags().StringVar(&f.rankBy, "rank-by", "reachable", "ranking order: reachable (endpoints reached) or sensitive (sensitive endpoints reached)")
	cmd.Flags().IntVar(&f.top, "top", 10, "with --rank, how many to list (0: all)")
	cmd.Flags().BoolVar(&f.unknown, "include-unknown", false, "count connections that depend on domain names as allowed")
	return cmd
}

var formats = []render.Format{render.Text, render.JSON, render.Markdown}

func run(ctx context.Context, streams cmdutil.IOStreams, log *slog.Logger, f *flagpole, from string, args []string) error {
	format, err := render.ParseFormat(f.output, formats...)
	if err != nil {
		return cmdutil.Invalid(err)
	}
	switch {
	case from == "" && !f.rank:
		return cmdutil.Invalidf("give --from ns/name (one compromised endpoint) or --rank (every workload)")
	case from != "" && f.rank:
		return cmdutil.Invalidf("--from and --rank are exclusive")
	case f.maxHops < 0 || f.top < 0:
		return cmdutil.Invalidf("--max-hops and --top must not be negative")
	}
	by := blast.ByReachable
	switch f.rankBy {
	case "reachable":
	case "sensitive":
		by = blast.BySensitive
	default:
		return cmdutil.Invalidf("--rank-by %q: want reachable or sensitive", f.rankBy)
	}
	ls, err := metav1.ParseToLabelSelector(f.sensitive)
	if err != nil {
		return cmdutil.Invalidf("--sensitive %q: %v", f.sensitive, err)
	}
	sel, err := model.SelectorFromLabelSelector(ls)
	if err != nil {
		return cmdutil.Invalidf("--sensitive %q: %v", f.sensitive, err)
	}
	in, err := f.input.Load(ctx, streams, log, args)
	if err != nil {
		return err
	}
	e := in.Engine
	sensitive := func(ep *model.Endpoint) bool {
		if !ep.IsPodLike() {
			return false
		}
		if sel.Matches(ep.Labels) {
			return true
		}
		ns := e.Snapshot().Namespace(ep.Namespace)
		return ns != nil && sel.Matches(ns.Labels)
	}
	g := blast.New(e, e.Connectivity(), blast.Options{IncludeUnknown: f.unknown})
	st := table.Style{Color: streams.OutIsTerminal}
	if f.rank {
		scores := g.Rank(sensitive, by)
		if f.top > 0 && len(scores) > f.top {
			scores = scores[:f.top]
		}
		return writeRank(streams.Out, format, e, scores, f, st)
	}
	start, err := cmdutil.ResolveEndpoint(e, from)
	if err != nil {
		return cmdutil.Invalidf("--from: %v", err)
	}
	r := g.From(start, f.maxHops)
	return writeRadius(streams.Out, format, e, r, sensitive, f, st)
}

func pathString(p []blast.Hop) string {
	var b strings.Builder
	for i, h := range p {
		if i == 0 {
			b.WriteString(h.From.ID())
		}
		b.WriteString(" -[" + hopConns(h) + "]-> " + h.To.ID())
	}
	return b.String()
}

func hopConns(h blast.Hop) string {
	if h.Conns.IsEmpty() {
		return "unknown: " + h.Unknown.String()
	}
	return h.Conns.String()
}

func writeRadius(w io.Writer, f render.Format, e *eval.Engine, r *blast.Radius, sensitive func(*model.Endpoint) bool, fp *flagpole, st table.Style) error {
	nSens := 0
	for _, t := range r.Targets {
		if sensitive(t.Endpoint) {
			nSens++
		}
	}
	headline := fmt.Sprintf("Blast radius of %s: %d endpoints reachable (%d sensitive) within %d hops", r.Start.ID(), len(r.Targets), nSens, r.MaxHops)
	if r.Truncated {
		headline += fmt.Sprintf("; stopped at --max-hops %d, more is reachable", fp.maxHops)
	}
	switch f {
	case render.JSON:
		type targetJSON struct {
			Endpoint  render.EndpointJSON `json:"endpoint"`
			Hops      int                 `json:"hops"`
			Sensitive bool                `json:"sensitive"`
			Path      []map[string]any    `json:"path"`
		}
		doc := struct {
			APIVersion string              `json:"apiVersion"`
			Kind       string              `json:"kind"`
			Start      render.EndpointJSON `json:"start"`
			Sensitive  string              `json:"sensitiveSelector"`
			Reachable  int                 `json:"reachable"`
			Sens       int                 `json:"sensitive"`
			MaxHops    int                 `json:"maxHops"`
			Truncated  bool                `json:"truncated,omitempty"`
			Targets    []targetJSON        `json:"targets"`
		}{APIVersion: render.APIVersion, Kind: "BlastRadius", Start: render.EndpointToJSON(e, r.Start), Sensitive: fp.sensitive,
			Reachable: len(r.Targets), Sens: nSens, MaxHops: r.MaxHops, Truncated: r.Truncated, Targets: []targetJSON{}}
		for _, t := range r.Targets {
			tj := targetJSON{Endpoint: render.EndpointToJSON(e, t.Endpoint), Hops: t.Hops, Sensitive: sensitive(t.Endpoint), Path: []map[string]any{}}
			for _, h := range t.Path {
				hop := map[string]any{"from": h.From.ID(), "to": h.To.ID(), "connections": render.ConnSetToJSON(h.Conns)}
				if !h.Unknown.IsEmpty() {
					hop["unknown"] = render.ConnSetToJSON(h.Unknown)
				}
				tj.Path = append(tj.Path, hop)
			}
			doc.Targets = append(doc.Targets, tj)
		}
		return render.WriteJSON(w, doc)
	case render.Markdown:
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, "### %s\n\n", table.MDEscape(headline))
		bw.WriteString("| Hops | Endpoint | Sensitive | Shortest path |\n|---|---|---|---|\n")
		for _, t := range r.Targets {
			s := ""
			if sensitive(t.Endpoint) {
				s = "**yes**"
			}
			fmt.Fprintf(bw, "| %d | %s | %s | %s |\n", t.Hops, table.MDCode(t.Endpoint.ID()), s, table.MDEscape(pathString(t.Path)))
		}
		return bw.Flush()
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(headline + "\n")
	if len(r.Targets) == 0 {
		bw.WriteString("nothing: every connection from it is denied\n")
		return bw.Flush()
	}
	bw.WriteByte('\n')
	var t table.Table
	t.Add(st.Bold("HOPS"), st.Bold("ENDPOINT"), st.Bold("SENSITIVE"), st.Bold("SHORTEST PATH"))
	for _, tg := range r.Targets {
		s := ""
		if sensitive(tg.Endpoint) {
			s = st.Bad("yes")
		}
		t.Add(strconv.Itoa(tg.Hops), tg.Endpoint.ID(), s, st.Dim(pathString(tg.Path)))
	}
	if err := t.Write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

func writeRank(w io.Writer, f render.Format, e *eval.Engine, scores []blast.Score, fp *flagpole, st table.Style) error {
	switch f {
	case render.JSON:
		type scoreJSON struct {
			Endpoint  render.EndpointJSON `json:"endpoint"`
			Reachable int                 `json:"reachable"`
			PodLike   int                 `json:"podsAndWorkloads"`
			Nodes     int                 `json:"nodes"`
			External  int                 `json:"external"`
			Sensitive int                 `json:"sensitive"`
		}
		doc := struct {
			APIVersion string      `json:"apiVersion"`
			Kind       string      `json:"kind"`
			Sensitive  string      `json:"sensitiveSelector"`
			RankBy     string      `json:"rankBy"`
			Ranking    []scoreJSON `json:"ranking"`
		}{APIVersion: render.APIVersion, Kind: "BlastRadiusRanking", Sensitive: fp.sensitive, RankBy: fp.rankBy, Ranking: []scoreJSON{}}
		for _, s := range scores {
			doc.Ranking = append(doc.Ranking, scoreJSON{render.EndpointToJSON(e, s.Endpoint), s.Reachable, s.PodLike, s.Nodes, s.External, s.Sensitive})
		}
		return render.WriteJSON(w, doc)
	case render.Markdown:
		bw := bufio.NewWriter(w)
		bw.WriteString("### Blast radius ranking\n\n| Rank | Workload | Reachable | Pods and workloads | External ranges | Sensitive |\n|---|---|---|---|---|---|\n")
		for i, s := range scores {
			fmt.Fprintf(bw, "| %d | %s | %d | %d | %d | %d |\n", i+1, table.MDCode(s.Endpoint.ID()), s.Reachable, s.PodLike, s.External, s.Sensitive)
		}
		return bw.Flush()
	}
	var t table.Table
	t.Add(st.Bold("RANK"), st.Bold("WORKLOAD"), st.Bold("REACHABLE"), st.Bold("PODS/WORKLOADS"), st.Bold("NODES"), st.Bold("EXTERNAL"), st.Bold("SENSITIVE"))
	for i, s := range scores {
		sens := strconv.Itoa(s.Sensitive)
		if s.Sensitive > 0 {
			sens = st.Bad(sens)
		}
		t.Add(strconv.Itoa(i+1), s.Endpoint.ID(), strconv.Itoa(s.Reachable), strconv.Itoa(s.PodLike), strconv.Itoa(s.Nodes), strconv.Itoa(s.External), sens)
	}
	return t.Write(w)
}
