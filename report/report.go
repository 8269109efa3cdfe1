package report

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/exposure"
	"github.com/bulkhead/bulkhead/lint"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/spec"
)

// Input is what a report shows. Engine is required; the rest may be
// empty, and their sections then say so.
type Input struct {
	Engine *eval.Engine
	// Findings are lint findings (suppressed and baselined ones are shown
	// apart); LintRan is false when the lint was not run at all.
	Findings []lint.Finding
	LintRan  bool
	// Tests are the results of a connectivity test spec, or nil.
	Tests *spec.Results
	// Exposure is the exposure of every workload, or nil to compute it
	// (unless NoExposure is set).
	Exposure *exposure.Report
	// NoExposure leaves the exposure section out, for speed on large
	// clusters.
	NoExposure bool
}

// Options change the page.
type Options struct {
	// Title heads the page; "bulkhead report" when empty.
	Title string
	// Sources lists the inputs, for the header.
	Sources []string
	// Generated is the time the report was made, as text; the caller
	// supplies it so that the package stays deterministic.
	Generated string
	// Detailed is the largest number of pods and workloads shown one by
	// one in the graph and the matrix; above it both are per namespace.
	// Zero means DefaultDetailed.
	Detailed int
	// MaxRows bounds the rows of the exposure table (the widest exposure
	// first); zero means DefaultMaxRows.
	MaxRows int
}

// Defaults for Options.
const (
	DefaultDetailed = 80
	DefaultMaxRows  = 500
)

// page is what the template renders.
type page struct {
	Title, Generated string
	Sources          []string
	Stats            []stat
	Graph            *graph
	Matrix           *matrix
	Exposure         []exposureRow
	ExposureMore     int
	ExposureRan      bool
	Findings         []findingRow
	Hidden           []findingRow // suppressed or baselined
	LintRan          bool
	LintCounts       lint.Counts
	Tests            []testRow
	TestsRan         bool
	TestsName        string
	TestsFailed      int
	Notes            []string
}

type stat struct {
	Label, Value, Class string
}

type exposureRow struct {
	ID, Namespace, Kind string
	IngressLevel        string
	IngressClass        string
	Ingress             string
	EgressLevel         string
	EgressClass         string
	Egress              string
	Policies            int
}

type findingRow struct {
	Severity, ID, Check, Location, Subject, Msg, Fix, Note string
}

type testRow struct {
	Name, Location, Message string
	Passed                  bool
	Details                 []string
}

// build assembles the page from the input.
func build(in Input, o Options) *page {
	e := in.Engine
	if o.Title == "" {
		o.Title = "bulkhead report"
	}
	if o.Detailed <= 0 {
		o.Detailed = DefaultDetailed
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	p := &page{Title: o.Title, Generated: o.Generated, Sources: o.Sources, LintRan: in.LintRan}
	var pods []*model.Endpoint
	nss := map[string]bool{}
	for _, ep := range e.Endpoints() {
		if ep.IsPodLike() {
			pods = append(pods, ep)
			nss[ep.Namespace] = true
		}
	}
	conn := e.Connectivity()
	detailed := len(pods) <= o.Detailed
	if detailed {
		p.Graph = endpointGraph(e, conn)
		p.Matrix = endpointMatrix(e, pods)
	} else {
		p.Graph, p.Matrix = namespaceViews(e, conn, pods)
		p.Notes = append(p.Notes, fmt.Sprintf("%d pods and workloads: the graph and the matrix show namespaces (up to %d are shown one by one).", len(pods), o.Detailed))
	}

	var sum exposure.Summary
	if ex := in.Exposure; ex != nil || !in.NoExposure {
		if ex == nil {
			ex = exposure.Compute(e)
		}
		p.Exposure, p.ExposureMore = exposureRows(ex, o.MaxRows)
		sum = exposure.Summarize(ex.Endpoints)
		p.ExposureRan = true
	}

	for _, f := range in.Findings {
		row := findingRow{Severity: f.Severity.String(), ID: f.ID, Location: f.Location(), Subject: f.Subject, Msg: f.Msg, Fix: f.Fix}
		if c := lint.Lookup(f.ID); c != nil {
			row.Check = c.Info().Name
		}
		switch {
		case f.Suppressed:
			row.Note = "suppressed: " + f.Reason
			p.Hidden = append(p.Hidden, row)
		case f.Baselined:
			row.Note = "in the baseline"
			p.Hidden = append(p.Hidden, row)
		default:
			p.Findings = append(p.Findings, row)
		}
	}
	p.LintCounts = lint.Count(in.Findings)

	if r := in.Tests; r != nil {
		p.TestsRan, p.TestsName, p.TestsFailed = true, r.Spec.Name, r.Failed()
		for _, x := range r.Results {
			row := testRow{Name: x.Test.Name, Message: x.Message, Passed: x.Passed, Location: r.Spec.File}
			if x.Test.Line > 0 {
				row.Location = fmt.Sprintf("%s:%d", r.Spec.File, x.Test.Line)
			}
			for _, pr := range x.Examples {
				row.Details = append(row.Details, pr.Src.ID()+" → "+pr.Dst.ID()+": "+pr.Allowed.String())
			}
			if more := x.Offending - len(x.Examples); more > 0 {
				row.Details = append(row.Details, fmt.Sprintf("… and %d more", more))
			}
			p.Tests = append(p.Tests, row)
		}
	}

	p.Stats = []stat{
		{"pods and workloads", fmt.Sprint(len(pods)), ""},
		{"namespaces", fmt.Sprint(len(nss)), ""},
		{"policies", fmt.Sprint(len(e.Policies())), ""},
		{"allowed connections", fmt.Sprint(conn.Count()), ""},
	}
	if p.ExposureRan {
		p.Stats = append(p.Stats,
			stat{"reachable from the internet", fmt.Sprint(sum.IngressFromInternet), classIf(sum.IngressFromInternet > 0, "warn")},
			stat{"without ingress policy", fmt.Sprint(sum.UnprotectedIngress), classIf(sum.UnprotectedIngress > 0, "warn")})
	}
	if in.LintRan {
		n := p.LintCounts
		p.Stats = append(p.Stats, stat{"lint errors / warnings", fmt.Sprintf("%d / %d", n.Errors, n.Warnings), classIf(n.Errors > 0, "bad", classIf(n.Warnings > 0, "warn"))})
	}
	if p.TestsRan {
		p.Stats = append(p.Stats, stat{"tests failed", fmt.Sprintf("%d of %d", p.TestsFailed, len(p.Tests)), classIf(p.TestsFailed > 0, "bad", "good")})
	}
	return p
}

// classIf returns class when b holds, else the optional fallback.
func classIf(b bool, class string, otherwise ...string) string {
	if b {
		return class
	}
	if len(otherwise) > 0 {
		return otherwise[0]
	}
	return ""
}

// levelRank orders exposure levels, widest first.
var levelRank = map[string]int{
	exposure.LevelInternet: 0, exposure.LevelAllNamespaces: 1, exposure.LevelNamespaces: 2,
	exposure.LevelOwnNamespace: 3, exposure.LevelNodes: 4, exposure.LevelNone: 5,
}

func levelClass(s *exposure.Side) string {
	switch {
	case s.Unprotected:
		return "bad"
	case s.Level() == exposure.LevelInternet || s.Level() == exposure.LevelAllNamespaces:
		return "warn"
	}
	return ""
}

func sideText(s *exposure.Side) string {
	var parts []string
	if s.Unprotected {
		parts = append(parts, "no policy")
	}
	if len(s.Internet) > 0 {
		parts = append(parts, "internet: "+s.InternetConns.String())
	}
	if s.AllPods {
		parts = append(parts, "every pod: "+s.AllPodsConns.String())
	} else if len(s.Namespaces) > 0 {
		var names []string
		for _, n := range s.Namespaces {
			names = append(names, fmt.Sprintf("%s (%d/%d)", n.Namespace, n.Peers, n.Total))
		}
		parts = append(parts, strings.Join(names, ", "))
	}
	if len(s.Nodes) > 0 {
		parts = append(parts, fmt.Sprintf("%d nodes", len(s.Nodes)))
	}
	return strings.Join(parts, "; ")
}

// exposureRows lists the widest exposures first, up to max rows.
func exposureRows(r *exposure.Report, max int) ([]exposureRow, int) {
	xs := slices.Clone(r.Endpoints)
	rank := func(x *exposure.Exposure) int {
		return min(levelRank[x.Ingress.Level()], levelRank[x.Egress.Level()]+1)
	}
	slices.SortStableFunc(xs, func(a, b *exposure.Exposure) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(levelRank[a.Ingress.Level()], levelRank[b.Ingress.Level()]))
	})
	var rows []exposureRow
	for i, x := range xs {
		if i == max {
			return rows, len(xs) - max
		}
		ep := x.Endpoint
		kind := "Pod"
		if ep.Workload != "" {
			kind = ep.Workload
		}
		if ep.HostNetwork {
			kind += " (hostNetwork)"
		}
		rows = append(rows, exposureRow{
			ID: ep.ID(), Namespace: ep.Namespace, Kind: kind,
			IngressLevel: x.Ingress.Level(), IngressClass: levelClass(&x.Ingress), Ingress: sideText(&x.Ingress),
			EgressLevel: x.Egress.Level(), EgressClass: levelClass(&x.Egress), Egress: sideText(&x.Egress),
			Policies: len(x.Ingress.Policies) + len(x.Egress.Policies),
		})
	}
	return rows, 0
}

// matrix is the reachability table: per endpoint pair, or per namespace
// pair for large inputs.
type matrix struct {
	PerNamespace bool
	Labels       []string
	Rows         []matrixRow
	Cells        int
}

type matrixRow struct {
	Label string
	Cells []matrixCell
}

type matrixCell struct {
	Class, Text, Title string
}

// endpointMatrix decides every ordered pair of pods and workloads.
func endpointMatrix(e *eval.Engine, pods []*model.Endpoint) *matrix {
	m := &matrix{}
	for _, ep := range pods {
		m.Labels = append(m.Labels, ep.ID())
	}
	for _, src := range pods {
		row := matrixRow{Label: src.ID()}
		for _, dst := range pods {
			c := matrixCell{}
			switch allowed, unknown := e.Allowed(src, dst); {
			case src == dst:
				c.Class, c.Title = "self", src.ID()+" (itself)"
			case allowed.IsAll():
				c.Class, c.Text = "all", "●"
			case allowed.IsEmpty() && unknown.IsEmpty():
				c.Class = "none"
			case allowed.IsEmpty():
				c.Class, c.Text = "unknown", "?"
			default:
				c.Class, c.Text = "some", "◐"
			}
			if c.Title == "" {
				allowed, unknown := e.Allowed(src, dst)
				c.Title = src.ID() + " → " + dst.ID() + ": " + allowed.String()
				if !unknown.IsEmpty() {
					c.Title += " (unknown: " + unknown.String() + ")"
				}
			}
			row.Cells = append(row.Cells, c)
			m.Cells++
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// namespaceViews summarises connectivity per namespace pair: the graph of
// namespaces and the matrix of the share of pod pairs allowed.
func namespaceViews(e *eval.Engine, conn *eval.Connectivity, pods []*model.Endpoint) (*graph, *matrix) {
	size := map[string]int{}
	for _, ep := range pods {
		size[ep.Namespace]++
	}
	names := make([]string, 0, len(size))
	for n := range size {
		names = append(names, n)
	}
	sort.Strings(names)
	idx := map[string]int{}
	for i, n := range names {
		idx[n] = i
	}
	count := make([][]int, len(names))
	for i := range count {
		count[i] = make([]int, len(names))
	}
	external := map[[2]string]int{} // {"in"/"out", namespace}
	conn.Each(func(c eval.Conn) bool {
		switch {
		case c.Src.IsPodLike() && c.Dst.IsPodLike():
			count[idx[c.Src.Namespace]][idx[c.Dst.Namespace]]++
		case c.Src.Kind == model.EndpointExternal:
			external[[2]string{"in", c.Dst.Namespace}]++
		case c.Dst.Kind == model.EndpointExternal:
			external[[2]string{"out", c.Src.Namespace}]++
		}
		return true
	})
	m := &matrix{PerNamespace: true, Labels: names}
	for i, src := range names {
		row := matrixRow{Label: fmt.Sprintf("%s (%d)", src, size[src])}
		for j, dst := range names {
			total := size[src] * size[dst]
			if i == j {
				total -= size[src]
			}
			c := matrixCell{Class: "none", Title: fmt.Sprintf("%s → %s: %d of %d pod pairs allowed", src, dst, count[i][j], total)}
			if n := count[i][j]; n > 0 {
				c.Class, c.Text = "some", fmt.Sprintf("%d%%", max(1, n*100/max(total, 1)))
				if n == total {
					c.Class = "all"
				}
			}
			if total == 0 {
				c.Class, c.Text = "self", ""
			}
			row.Cells = append(row.Cells, c)
			m.Cells++
		}
		m.Rows = append(m.Rows, row)
	}
	return namespaceGraph(names, size, count, external), m
}
