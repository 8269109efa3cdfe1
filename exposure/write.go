package exposure

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/render"
	"github.com/bulkhead/bulkhead/render/table"
)

// Formats are the output formats Write supports.
var Formats = []render.Format{render.Text, render.JSON, render.Markdown}

// Write writes the exposure of eps (a subset of r.Endpoints, in the order
// to show) in format f. e is the engine r was computed from.
func Write(w io.Writer, f render.Format, e *eval.Engine, r *Report, eps []*Exposure, st table.Style) error {
	switch f {
	case render.Text:
		return writeText(w, eps, st)
	case render.JSON:
		return render.WriteJSON(w, toJSON(e, eps))
	case render.Markdown:
		return writeMarkdown(w, eps)
	}
	return fmt.Errorf("exposure: unsupported output format %q", f)
}

// Summary counts the endpoints of each kind of exposure.
type Summary struct {
	Endpoints                int `json:"endpoints"`
	IngressFromInternet      int `json:"ingressFromInternet"`
	IngressFromAllNamespaces int `json:"ingressFromAllNamespaces"`
	EgressToInternet         int `json:"egressToInternet"`
	EgressToAllNamespaces    int `json:"egressToAllNamespaces"`
	UnprotectedIngress       int `json:"unprotectedIngress"`
	UnprotectedEgress        int `json:"unprotectedEgress"`
}

// Summarize counts eps.
func Summarize(eps []*Exposure) Summary {
	s := Summary{Endpoints: len(eps)}
	for _, x := range eps {
		count := func(b bool, n *int) {
			if b {
				*n++
			}
		}
		count(len(x.Ingress.Internet) > 0, &s.IngressFromInternet)
		count(x.Ingress.AllPods, &s.IngressFromAllNamespaces)
		count(len(x.Egress.Internet) > 0, &s.EgressToInternet)
		count(x.Egress.AllPods, &s.EgressToAllNamespaces)
		count(x.Ingress.Unprotected, &s.UnprotectedIngress)
		count(x.Egress.Unprotected, &s.UnprotectedEgress)
	}
	return s
}

// cell formats a side for a table: its widest exposure and, where it is
// one line, the connections.
func cell(s *Side, ep *model.Endpoint) string {
	var parts []string
	if len(s.Internet) > 0 {
		parts = append(parts, "internet: "+s.InternetConns.String())
	}
	if s.AllPods {
		parts = append(parts, "all namespaces: "+s.AllPodsConns.String())
	} else if len(s.Namespaces) > 0 {
		var names []string
		for _, n := range s.Namespaces {
			names = append(names, n.Namespace)
		}
		word := "namespaces "
		if len(names) == 1 {
			word = "namespace "
		}
		parts = append(parts, word+strings.Join(names, ", "))
	}
	if len(parts) == 0 {
		parts = append(parts, s.Level())
	}
	out := strings.Join(parts, "; ")
	switch {
	case ep.HostNetwork:
		out += " [hostNetwork: no policy applies]"
	case s.Unprotected:
		out += " [no policy]"
	}
	return out
}

func summaryLines(eps []*Exposure) []string {
	s := Summarize(eps)
	var unprotIn, unprotEg []string
	for _, x := range eps {
		if x.Ingress.Unprotected {
			unprotIn = append(unprotIn, x.Endpoint.ID())
		}
		if x.Egress.Unprotected {
			unprotEg = append(unprotEg, x.Endpoint.ID())
		}
	}
	list := func(ids []string) string {
		if len(ids) == 0 {
			return ""
		}
		if len(ids) > 5 {
			ids = append(ids[:5:5], fmt.Sprintf("and %d more", len(ids)-5))
		}
		return ": " + strings.Join(ids, ", ")
	}
	return []string{
		fmt.Sprintf("%d pods and workloads", s.Endpoints),
		fmt.Sprintf("reachable from the internet: %d", s.IngressFromInternet),
		fmt.Sprintf("reachable from every pod of every namespace: %d", s.IngressFromAllNamespaces),
		fmt.Sprintf("may reach the internet: %d", s.EgressToInternet),
		fmt.Sprintf("may reach every pod of every namespace: %d", s.EgressToAllNamespaces),
		fmt.Sprintf("no ingress policy: %d%s", s.UnprotectedIngress, list(unprotIn)),
		fmt.Sprintf("no egress policy: %d%s", s.UnprotectedEgress, list(unprotEg)),
	}
}

func writeText(w io.Writer, eps []*Exposure, st table.Style) error {
	bw := bufio.NewWriter(w)
	for _, l := range summaryLines(eps) {
		bw.WriteString(l + "\n")
	}
	bw.WriteByte('\n')
	var t table.Table
	t.Add(st.Bold("ENDPOINT"), st.Bold("INGRESS FROM"), st.Bold("EGRESS TO"))
	for _, x := range eps {
		in, eg := cell(&x.Ingress, x.Endpoint), cell(&x.Egress, x.Endpoint)
		if x.Ingress.Level() == LevelInternet || x.Ingress.Unprotected {
			in = st.Bad(in)
		}
		if x.Egress.Unprotected {
			eg = st.Bad(eg)
		}
		t.Add(x.Endpoint.ID(), in, eg)
	}
	if err := t.Write(bw); err != nil {
		return err
	}
	first := true
	for _, x := range eps {
		for _, s := range []*Side{&x.Ingress, &x.Egress} {
			if lv := s.Level(); len(s.Rules) == 0 || (lv != LevelInternet && lv != LevelAllNamespaces) {
				continue
			}
			if first {
				bw.WriteString("\nRules that open them beyond their namespace (for internet and all-namespace exposure):\n")
				first = false
			}
			fmt.Fprintf(bw, "  %s %s: %s\n", x.Endpoint.ID(), s.Direction, ruleRefs(s.Rules))
		}
	}
	return bw.Flush()
}

func ruleRefs(steps []eval.Step) string {
	refs := make([]string, len(steps))
	for i, s := range steps {
		refs[i] = render.RuleRef(s)
	}
	return strings.Join(refs, ", ")
}

func writeMarkdown(w io.Writer, eps []*Exposure) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("### Exposure\n\n")
	for _, l := range summaryLines(eps) {
		bw.WriteString("- " + table.MDEscape(l) + "\n")
	}
	bw.WriteString("\n| Endpoint | Ingress from | Egress to | Opened by |\n|---|---|---|---|\n")
	for _, x := range eps {
		var why []string
		for _, s := range []*Side{&x.Ingress, &x.Egress} {
			if len(s.Rules) > 0 {
				why = append(why, s.Direction.String()+": "+ruleRefs(s.Rules))
			}
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s |\n", table.MDCode(x.Endpoint.ID()),
			table.MDEscape(cell(&x.Ingress, x.Endpoint)), table.MDEscape(cell(&x.Egress, x.Endpoint)), table.MDEscape(strings.Join(why, "; ")))
	}
	return bw.Flush()
}

// JSON document types (kind "Exposure"; see docs/review.md).
type (
	reportJSON struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Summary    Summary        `json:"summary"`
		Endpoints  []exposureJSON `json:"endpoints"`
	}
	exposureJSON struct {
		Endpoint render.EndpointJSON `json:"endpoint"`
		Ingress  sideJSON            `json:"ingress"`
		Egress   sideJSON            `json:"egress"`
	}
	sideJSON struct {
		Level         string              `json:"level"`
		Unprotected   bool                `json:"unprotected"`
		Isolated      bool                `json:"isolated"`
		Policies      []string            `json:"policies"`
		Internet      []peerJSON          `json:"internet"`
		InternetConns *render.ConnSetJSON `json:"internetConnections,omitempty"`
		Nodes         []peerJSON          `json:"nodes,omitempty"`
		AllNamespaces bool                `json:"allNamespaces"`
		AllConns      *render.ConnSetJSON `json:"allNamespacesConnections,omitempty"`
		Namespaces    []nsJSON            `json:"namespaces"`
		Rules         []render.StepJSON   `json:"rules"`
	}
	peerJSON struct {
		Endpoint    string             `json:"endpoint"`
		Connections render.ConnSetJSON `json:"connections"`
	}
	nsJSON struct {
		Namespace   string             `json:"namespace"`
		Peers       int                `json:"peers"`
		Total       int                `json:"total"`
		Connections render.ConnSetJSON `json:"connections"`
	}
)

func toJSON(e *eval.Engine, eps []*Exposure) reportJSON {
	doc := reportJSON{APIVersion: render.APIVersion, Kind: "Exposure", Summary: Summarize(eps), Endpoints: []exposureJSON{}}
	for _, x := range eps {
		doc.Endpoints = append(doc.Endpoints, exposureJSON{Endpoint: render.EndpointToJSON(e, x.Endpoint),
			Ingress: sideToJSON(&x.Ingress), Egress: sideToJSON(&x.Egress)})
	}
	return doc
}

func sideToJSON(s *Side) sideJSON {
	j := sideJSON{Level: s.Level(), Unprotected: s.Unprotected, Isolated: s.Isolated, Policies: []string{},
		Internet: []peerJSON{}, AllNamespaces: s.AllPods, Namespaces: []nsJSON{}, Rules: []render.StepJSON{}}
	for _, p := range s.Policies {
		j.Policies = append(j.Policies, p.Ref())
	}
	peers := func(ps []Peer) []peerJSON {
		out := []peerJSON{}
		for _, p := range ps {
			out = append(out, peerJSON{p.Endpoint.ID(), render.ConnSetToJSON(p.Conns)})
		}
		return out
	}
	j.Internet = peers(s.Internet)
	if len(s.Nodes) > 0 {
		j.Nodes = peers(s.Nodes)
	}
	if len(s.Internet) > 0 {
		c := render.ConnSetToJSON(s.InternetConns)
		j.InternetConns = &c
	}
	if s.AllPods {
		c := render.ConnSetToJSON(s.AllPodsConns)
		j.AllConns = &c
	}
	for _, n := range s.Namespaces {
		j.Namespaces = append(j.Namespaces, nsJSON{n.Namespace, n.Peers, n.Total, render.ConnSetToJSON(n.Conns)})
	}
	for _, st := range s.Rules {
		j.Rules = append(j.Rules, render.StepToJSON(st))
	}
	return j
}
