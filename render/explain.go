package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// ExplainFormats are the formats WriteDecision supports.
var ExplainFormats = []Format{Text, JSON}

// WriteDecision writes the trace of d in format f.
func WriteDecision(w io.Writer, f Format, d *eval.Decision, st Style) error {
	switch f {
	case Text:
		return decisionText(w, d, st)
	case JSON:
		return writeJSON(w, DecisionToJSON(d))
	}
	return fmt.Errorf("explain: unsupported output format %q", f)
}

// FullyAllowed reports whether d allows everything it was asked about.
func FullyAllowed(d *eval.Decision) bool {
	return !d.Scope.IsEmpty() && d.Allowed.Equal(d.Scope)
}

func verdictWord(allowed, unknown, scope model.ConnSet) string {
	switch {
	case allowed.Equal(scope):
		return "allowed"
	case allowed.IsEmpty() && unknown.IsEmpty():
		return "denied"
	case allowed.IsEmpty():
		return "unknown"
	}
	return "partly allowed"
}

// Flow summarises a side in one line:
// "Admin ClusterNetworkPolicy t (priority 10) egress[2] Pass -> NetworkPolicy x/allow-dns egress[0] Allow".
func Flow(s eval.Side) string {
	var parts []string
	for _, st := range s.Steps {
		if st.Policy == nil {
			parts = append(parts, st.Tier.String()+" "+st.Action.String()+" ("+st.Note+")")
			if st.Tier == model.TierUnknown {
				parts[len(parts)-1] = st.Action.String() + " (" + st.Note + ")"
			}
			continue
		}
		p := PolicyRef(st.Policy)
		if st.Tier != model.TierNetworkPolicy {
			p = st.Tier.String() + " " + p
		}
		if st.Rule != nil {
			p += " " + st.Rule.Ref()
		}
		parts = append(parts, p+" "+st.Action.String())
	}
	return strings.Join(parts, " -> ")
}

func decisionText(w io.Writer, d *eval.Decision, st Style) error {
	bw := bufio.NewWriter(w)
	word := verdictWord(d.Allowed, d.Unknown, d.Scope)
	colored := st.Bad(word)
	if word == "allowed" {
		colored = st.Good(word)
	}
	fmt.Fprintf(bw, "%s -> %s on %s: %s\n", d.Src.ID(), d.Dst.ID(), d.Scope, st.Bold(colored))
	if word != "allowed" && word != "denied" {
		fmt.Fprintf(bw, "  allowed: %s\n", d.Allowed)
		if !d.Unknown.IsEmpty() {
			fmt.Fprintf(bw, "  unknown (depends on domain names): %s\n", d.Unknown)
		}
	}
	if d.Self {
		bw.WriteString("  an endpoint can always reach itself\n")
		return bw.Flush()
	}
	for _, side := range []eval.Side{d.Egress, d.Ingress} {
		sw := verdictWord(side.Allowed, side.Unknown, d.Scope)
		fmt.Fprintf(bw, "\n%s of %s: %s\n", side.Direction, side.Endpoint.ID(), sw)
		if side.Subject {
			if len(side.Policies) == 0 {
				bw.WriteString("  no policy selects it\n")
			} else {
				var refs []string
				for _, p := range side.Policies {
					refs = append(refs, PolicyRef(p))
				}
				fmt.Fprintf(bw, "  selected by: %s\n", strings.Join(refs, ", "))
			}
			if side.Isolated {
				bw.WriteString("  isolated by NetworkPolicy\n")
			} else {
				bw.WriteString("  not isolated by any NetworkPolicy\n")
			}
		}
		fmt.Fprintf(bw, "  flow: %s\n", Flow(side))
		for _, s := range side.Steps {
			fmt.Fprintf(bw, "  - %s\n", StepString(s))
			if s.Policy != nil && s.Policy.Source.Location() != "" {
				fmt.Fprintf(bw, "    %s\n", st.Dim("at "+s.Policy.Source.Location()))
			}
		}
	}
	return bw.Flush()
}

// DecisionJSON is an explanation in JSON.
type DecisionJSON struct {
	APIVersion         string       `json:"apiVersion"`
	Kind               string       `json:"kind"`
	Src                EndpointJSON `json:"src"`
	Dst                EndpointJSON `json:"dst"`
	Connections        ConnSetJSON  `json:"connections"`
	Allowed            bool         `json:"allowed"`
	AllowedConnections ConnSetJSON  `json:"allowedConnections"`
	Unknown            *ConnSetJSON `json:"unknown,omitempty"`
	Self               bool         `json:"self,omitempty"`
	Egress             SideJSON     `json:"egress"`
	Ingress            SideJSON     `json:"ingress"`
}

// SideJSON is one direction's decision in JSON.
type SideJSON struct {
	Endpoint string       `json:"endpoint"`
	Subject  bool         `json:"subjectToPolicies"`
	Isolated bool         `json:"isolated"`
	Policies []string     `json:"policies"`
	Verdict  string       `json:"verdict"`
	Allowed  ConnSetJSON  `json:"allowedConnections"`
	Unknown  *ConnSetJSON `json:"unknown,omitempty"`
	Flow     string       `json:"flow"`
	Steps    []StepJSON   `json:"steps"`
}

// DecisionToJSON converts d. Allowed is true when every connection asked
// about is allowed.
func DecisionToJSON(d *eval.Decision) DecisionJSON {
	j := DecisionJSON{APIVersion: APIVersion, Kind: "Explanation",
		Src: EndpointToJSON(nil, d.Src), Dst: EndpointToJSON(nil, d.Dst),
		Connections: ConnSetToJSON(d.Scope), Allowed: FullyAllowed(d),
		AllowedConnections: ConnSetToJSON(d.Allowed), Self: d.Self,
		Egress: sideJSON(d.Egress, d.Scope), Ingress: sideJSON(d.Ingress, d.Scope)}
	if !d.Unknown.IsEmpty() {
		u := ConnSetToJSON(d.Unknown)
		j.Unknown = &u
	}
	return j
}

func sideJSON(s eval.Side, scope model.ConnSet) SideJSON {
	j := SideJSON{Endpoint: s.Endpoint.ID(), Subject: s.Subject, Isolated: s.Isolated, Policies: []string{},
		Verdict: verdictWord(s.Allowed, s.Unknown, scope), Allowed: ConnSetToJSON(s.Allowed), Flow: Flow(s), Steps: stepsJSON(s.Steps)}
	for _, p := range s.Policies {
		j.Policies = append(j.Policies, p.Ref())
	}
	if !s.Unknown.IsEmpty() {
		u := ConnSetToJSON(s.Unknown)
		j.Unknown = &u
	}
	return j
}
