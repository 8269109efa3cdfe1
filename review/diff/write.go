package diff

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/render/table"
)

// Formats are the output formats Write supports.
var Formats = []render.Format{render.Text, render.JSON, render.Markdown}

// WriteOptions change how a report is written.
type WriteOptions struct {
	Style table.Style
	// Limit caps the connection rows of Markdown output (a pull-request
	// comment has a size limit); 0 writes every row. Text and JSON always
	// have every row.
	Limit int
	// Old and New label the two sides, e.g. "main" and "HEAD".
	Old, New string
}

// Write writes r in format f.
func Write(w io.Writer, f render.Format, r *Report, o WriteOptions) error {
	switch f {
	case render.Text:
		return writeText(w, r, o)
	case render.JSON:
		return render.WriteJSON(w, toJSON(r, o))
	case render.Markdown:
		return writeMarkdown(w, r, o)
	}
	return fmt.Errorf("diff: unsupported output format %q", f)
}

// Counts are the sizes of a report.
type Counts struct {
	Added, Removed, Changed                         int
	PoliciesAdded, PoliciesRemoved, PoliciesChanged int
	Endpoints, Namespaces                           int
}

// Count counts r.
func (r *Report) Count() Counts {
	var k Counts
	for _, c := range r.Conns {
		switch c.Kind {
		case eval.Added:
			k.Added++
		case eval.Removed:
			k.Removed++
		default:
			k.Changed++
		}
	}
	for _, p := range r.Policies {
		switch p.Kind {
		case eval.Added:
			k.PoliciesAdded++
		case eval.Removed:
			k.PoliciesRemoved++
		default:
			k.PoliciesChanged++
		}
	}
	k.Endpoints, k.Namespaces = len(r.Endpoints), len(r.Namespaces)
	return k
}

func sign(k eval.ChangeKind) string {
	switch k {
	case eval.Added:
		return "+"
	case eval.Removed:
		return "-"
	}
	return "~"
}

// CauseString formats a cause for people: "NetworkPolicy shop/x
// (changed, ingress)", "endpoint shop/web (added)", "namespace shop
// (labels changed)".
func CauseString(c Cause) string {
	switch {
	case c.Policy != nil:
		return fmt.Sprintf("%s (%s, %s)", c.Policy.Ref, c.Policy.Kind, c.Direction)
	case c.Endpoint != nil:
		what := c.Endpoint.Kind.String()
		if c.Endpoint.Kind == eval.Changed {
			what = strings.Join(shortDetails(c.Endpoint.Details), ", ") + " changed"
		}
		return fmt.Sprintf("endpoint %s (%s)", c.Endpoint.ID, what)
	case c.Namespace != nil:
		what := c.Namespace.Kind.String()
		if c.Namespace.Kind == eval.Changed {
			what = "labels changed"
		}
		return fmt.Sprintf("namespace %s (%s)", c.Namespace.Name, what)
	}
	return "unknown"
}

// shortDetails keeps the first word of each detail ("labels", "addresses").
func shortDetails(ds []string) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i], _, _ = strings.Cut(d, " ")
		if out[i] == "container" {
			out[i] = "ports"
		}
	}
	return out
}

func causesString(cs []Cause) string {
	if len(cs) == 0 {
		return "no cause found"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = CauseString(c)
	}
	return strings.Join(parts, "; ")
}

// connString formats allowed connections with their unknown part.
func connString(allowed, unknown model.ConnSet) string {
	s := allowed.String()
	if !unknown.IsEmpty() {
		s += " (unknown: " + unknown.String() + ")"
	}
	return s
}

func policyLine(p *PolicyChange) string {
	s := sign(p.Kind) + " " + p.Ref
	pol := p.New
	if pol == nil {
		pol = p.Old
	}
	if loc := pol.Source.Location(); loc != "" {
		s += " (" + loc + ")"
	}
	if len(p.Details) > 0 {
		s += ": " + strings.Join(p.Details, "; ")
	}
	return s
}

func endpointLine(e *EndpointChange) string {
	s := sign(e.Kind) + " " + e.ID
	if len(e.Details) > 0 {
		s += ": " + strings.Join(e.Details, "; ")
	}
	return s
}

func namespaceLine(n *NamespaceChange) string {
	s := sign(n.Kind) + " " + n.Name
	if n.Kind == eval.Changed {
		s += ": labels " + labelsString(n.Old.Labels) + " -> " + labelsString(n.New.Labels)
	}
	return s
}

// kindCounts formats "1 added, 0 removed, 2 changed".
func kindCounts(kinds iter.Seq[eval.ChangeKind]) string {
	n := map[eval.ChangeKind]int{}
	for k := range kinds {
		n[k]++
	}
	return fmt.Sprintf("%d added, %d removed, %d changed", n[eval.Added], n[eval.Removed], n[eval.Changed])
}

func summaryLine(k Counts) string {
	return fmt.Sprintf("%d connections added, %d removed, %d changed", k.Added, k.Removed, k.Changed)
}

func writeText(w io.Writer, r *Report, o WriteOptions) error {
	bw := bufio.NewWriter(w)
	st := o.Style
	k := r.Count()
	fmt.Fprintf(bw, "Policies: %d added, %d removed, %d changed\n", k.PoliciesAdded, k.PoliciesRemoved, k.PoliciesChanged)
	for _, p := range r.Policies {
		bw.WriteString("  " + policyLine(p) + "\n")
	}
	if len(r.Namespaces) > 0 {
		fmt.Fprintf(bw, "Namespaces: %s\n", kindCounts(func(yield func(eval.ChangeKind) bool) {
			for _, n := range r.Namespaces {
				if !yield(n.Kind) {
					return
				}
			}
		}))
		for _, n := range r.Namespaces {
			bw.WriteString("  " + namespaceLine(n) + "\n")
		}
	}
	if len(r.Endpoints) > 0 {
		fmt.Fprintf(bw, "Endpoints: %s\n", kindCounts(func(yield func(eval.ChangeKind) bool) {
			for _, e := range r.Endpoints {
				if !yield(e.Kind) {
					return
				}
			}
		}))
		for _, e := range r.Endpoints {
			bw.WriteString("  " + endpointLine(e) + "\n")
		}
	}
	fmt.Fprintf(bw, "Connections: %s\n", summaryLine(k))
	if len(r.Conns) == 0 {
		return bw.Flush()
	}
	bw.WriteByte('\n')
	var t table.Table
	t.Add(st.Bold(""), st.Bold("SOURCE"), st.Bold("DESTINATION"), st.Bold("BEFORE"), st.Bold("AFTER"), st.Bold("CAUSED BY"))
	for _, c := range r.Conns {
		mark := sign(c.Kind)
		switch c.Kind {
		case eval.Added:
			mark = st.Bad(mark)
		case eval.Removed:
			mark = st.Good(mark)
		}
		t.Add(mark, c.Src, c.Dst, connString(c.Old, c.OldUnknown), connString(c.New, c.NewUnknown), st.Dim(causesString(c.Causes)))
	}
	if err := t.Write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

func writeMarkdown(w io.Writer, r *Report, o WriteOptions) error {
	bw := bufio.NewWriter(w)
	k := r.Count()
	title := "### Bulkhead: connectivity changes"
	if o.Old != "" && o.New != "" {
		title += " (`" + o.Old + "` → `" + o.New + "`)"
	}
	bw.WriteString(title + "\n\n")
	if len(r.Conns) == 0 {
		fmt.Fprintf(bw, "**No connection changes.** ")
	} else {
		fmt.Fprintf(bw, "**%d added, %d removed, %d changed** connections. ", k.Added, k.Removed, k.Changed)
	}
	fmt.Fprintf(bw, "Policies: %d added, %d removed, %d changed.\n\n", k.PoliciesAdded, k.PoliciesRemoved, k.PoliciesChanged)
	if len(r.Conns) > 0 {
		bw.WriteString("| | Source | Destination | Before | After | Caused by |\n|---|---|---|---|---|---|\n")
		for i, c := range r.Conns {
			if o.Limit > 0 && i == o.Limit {
				fmt.Fprintf(bw, "\n_%d more connection changes not shown; run `bulkhead diff` for all of them._\n", len(r.Conns)-o.Limit)
				break
			}
			word := map[eval.ChangeKind]string{eval.Added: "**added**", eval.Removed: "removed", eval.Changed: "changed"}[c.Kind]
			var causes []string
			for _, x := range c.Causes {
				causes = append(causes, table.MDEscape(CauseString(x)))
			}
			cs := strings.Join(causes, "<br>")
			if cs == "" {
				cs = "no cause found"
			}
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s |\n", word, table.MDCode(c.Src), table.MDCode(c.Dst),
				table.MDEscape(connString(c.Old, c.OldUnknown)), table.MDEscape(connString(c.New, c.NewUnknown)), cs)
		}
		bw.WriteByte('\n')
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(bw, "<details><summary>%s (%d)</summary>\n\n", title, len(lines))
		for _, l := range lines {
			bw.WriteString("- " + table.MDEscape(l) + "\n")
		}
		bw.WriteString("\n</details>\n\n")
	}
	var pl, nl, el []string
	for _, p := range r.Policies {
		pl = append(pl, policyLine(p))
	}
	for _, n := range r.Namespaces {
		nl = append(nl, namespaceLine(n))
	}
	for _, e := range r.Endpoints {
		el = append(el, endpointLine(e))
	}
	section("Policy changes", pl)
	section("Namespace changes", nl)
	section("Endpoint changes", el)
	return bw.Flush()
}

// JSON document (kind "ConnectivityDiff"; see docs/review.md).
type (
	diffJSON struct {
		APIVersion  string       `json:"apiVersion"`
		Kind        string       `json:"kind"`
		Old         string       `json:"old,omitempty"`
		New         string       `json:"new,omitempty"`
		Summary     summaryJSON  `json:"summary"`
		Policies    []policyJSON `json:"policies"`
		Namespaces  []objJSON    `json:"namespaces"`
		Endpoints   []objJSON    `json:"endpoints"`
		Connections []connJSON   `json:"connections"`
	}
	summaryJSON struct {
		Added           int `json:"added"`
		Removed         int `json:"removed"`
		Changed         int `json:"changed"`
		PoliciesAdded   int `json:"policiesAdded"`
		PoliciesRemoved int `json:"policiesRemoved"`
		PoliciesChanged int `json:"policiesChanged"`
	}
	policyJSON struct {
		Change    string   `json:"change"`
		Kind      string   `json:"kind"`
		Namespace string   `json:"namespace,omitempty"`
		Name      string   `json:"name"`
		Details   []string `json:"details,omitempty"`
		OldSource string   `json:"oldSource,omitempty"`
		NewSource string   `json:"newSource,omitempty"`
	}
	objJSON struct {
		Change  string   `json:"change"`
		ID      string   `json:"id"`
		Details []string `json:"details,omitempty"`
	}
	connJSON struct {
		Change     string              `json:"change"`
		Src        string              `json:"src"`
		Dst        string              `json:"dst"`
		Before     render.ConnSetJSON  `json:"before"`
		After      render.ConnSetJSON  `json:"after"`
		Opened     *render.ConnSetJSON `json:"opened,omitempty"`
		Closed     *render.ConnSetJSON `json:"closed,omitempty"`
		OldUnknown *render.ConnSetJSON `json:"beforeUnknown,omitempty"`
		NewUnknown *render.ConnSetJSON `json:"afterUnknown,omitempty"`
		Causes     []causeJSON         `json:"causes"`
	}
	causeJSON struct {
		Type      string `json:"type"` // policy, endpoint, namespace
		Ref       string `json:"ref"`
		Change    string `json:"change"`
		Direction string `json:"direction,omitempty"`
	}
)

func optConns(c model.ConnSet) *render.ConnSetJSON {
	if c.IsEmpty() {
		return nil
	}
	j := render.ConnSetToJSON(c)
	return &j
}

func toJSON(r *Report, o WriteOptions) diffJSON {
	k := r.Count()
	doc := diffJSON{APIVersion: render.APIVersion, Kind: "ConnectivityDiff", Old: o.Old, New: o.New,
		Summary:  summaryJSON{k.Added, k.Removed, k.Changed, k.PoliciesAdded, k.PoliciesRemoved, k.PoliciesChanged},
		Policies: []policyJSON{}, Namespaces: []objJSON{}, Endpoints: []objJSON{}, Connections: []connJSON{}}
	for _, p := range r.Policies {
		pol := p.New
		if pol == nil {
			pol = p.Old
		}
		j := policyJSON{Change: p.Kind.String(), Kind: pol.Kind, Namespace: pol.Namespace, Name: pol.Name, Details: p.Details}
		if p.Old != nil {
			j.OldSource = p.Old.Source.Location()
		}
		if p.New != nil {
			j.NewSource = p.New.Source.Location()
		}
		doc.Policies = append(doc.Policies, j)
	}
	for _, n := range r.Namespaces {
		j := objJSON{Change: n.Kind.String(), ID: n.Name}
		if n.Kind == eval.Changed {
			j.Details = []string{"labels " + labelsString(n.Old.Labels) + " -> " + labelsString(n.New.Labels)}
		}
		doc.Namespaces = append(doc.Namespaces, j)
	}
	for _, e := range r.Endpoints {
		doc.Endpoints = append(doc.Endpoints, objJSON{Change: e.Kind.String(), ID: e.ID, Details: e.Details})
	}
	for _, c := range r.Conns {
		j := connJSON{Change: c.Kind.String(), Src: c.Src, Dst: c.Dst,
			Before: render.ConnSetToJSON(c.Old), After: render.ConnSetToJSON(c.New),
			Opened: optConns(c.Opened()), Closed: optConns(c.Closed()),
			OldUnknown: optConns(c.OldUnknown), NewUnknown: optConns(c.NewUnknown), Causes: []causeJSON{}}
		for _, x := range c.Causes {
			switch {
			case x.Policy != nil:
				j.Causes = append(j.Causes, causeJSON{"policy", x.Policy.Ref, x.Policy.Kind.String(), x.Direction.String()})
			case x.Endpoint != nil:
				j.Causes = append(j.Causes, causeJSON{"endpoint", x.Endpoint.ID, x.Endpoint.Kind.String(), ""})
			case x.Namespace != nil:
				j.Causes = append(j.Causes, causeJSON{"namespace", x.Namespace.Name, x.Namespace.Kind.String(), ""})
			}
		}
		doc.Connections = append(doc.Connections, j)
	}
	return doc
}
