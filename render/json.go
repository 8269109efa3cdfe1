package render

import (
	"encoding/json"
	"io"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// APIVersion versions every JSON document bulkhead writes. The schema is
// documented in docs/json.md; fields are only ever added within a version.
const APIVersion = "bulkhead.dev/v1"

// ConnSetJSON is a connection set in JSON: the compact text and the ports
// per protocol as "80" or "8000-8080" strings.
type ConnSetJSON struct {
	Text           string   `json:"text"`
	All            bool     `json:"all,omitempty"`
	TCP            []string `json:"tcp,omitempty"`
	UDP            []string `json:"udp,omitempty"`
	SCTP           []string `json:"sctp,omitempty"`
	OtherProtocols bool     `json:"otherProtocols,omitempty"`
}

// ConnSetToJSON converts c.
func ConnSetToJSON(c model.ConnSet) ConnSetJSON {
	j := ConnSetJSON{Text: c.String(), All: c.IsAll(), OtherProtocols: c.Other()}
	ranges := func(p model.Protocol) []string {
		var out []string
		for _, r := range c.Ports(p).Ranges() {
			out = append(out, r.String())
		}
		return out
	}
	j.TCP, j.UDP, j.SCTP = ranges(model.TCP), ranges(model.UDP), ranges(model.SCTP)
	return j
}

// EndpointJSON is an endpoint in JSON.
type EndpointJSON struct {
	ID          string            `json:"id"`
	Kind        string            `json:"kind"`
	Workload    string            `json:"workload,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	IPs         []string          `json:"ips,omitempty"`
	Addresses   string            `json:"addresses,omitempty"`
	HostNetwork bool              `json:"hostNetwork,omitempty"`
	Isolated    *IsolationJSON    `json:"isolated,omitempty"`
	Source      string            `json:"source,omitempty"`
}

// IsolationJSON says per direction whether a NetworkPolicy isolates a pod.
type IsolationJSON struct {
	Ingress bool `json:"ingress"`
	Egress  bool `json:"egress"`
}

// EndpointToJSON converts ep; e may be nil when isolation is not known.
func EndpointToJSON(e *eval.Engine, ep *model.Endpoint) EndpointJSON {
	j := EndpointJSON{ID: ep.ID(), Kind: ep.Kind.String(), Workload: ep.Workload, Namespace: ep.Namespace,
		Name: ep.Name, Labels: ep.Labels, HostNetwork: ep.HostNetwork, Source: ep.Source.Location()}
	if ep.Kind == model.EndpointPod && ep.Workload == "" {
		j.Kind = "Pod"
	}
	for _, ip := range ep.IPs {
		j.IPs = append(j.IPs, ip.String())
	}
	if ep.Kind == model.EndpointExternal {
		j.Addresses = ep.External.String()
	}
	if e != nil && ep.IsPolicySubject() {
		in, eg := e.Isolation(ep)
		j.Isolated = &IsolationJSON{Ingress: in, Egress: eg}
	}
	return j
}

// StepJSON is one decision step in JSON.
type StepJSON struct {
	Tier     string       `json:"tier,omitempty"`
	Policy   string       `json:"policy,omitempty"`
	Kind     string       `json:"kind,omitempty"`
	Priority *int32       `json:"priority,omitempty"`
	Rule     string       `json:"rule,omitempty"`
	RuleName string       `json:"ruleName,omitempty"`
	Action   string       `json:"action"`
	Conns    *ConnSetJSON `json:"connections,omitempty"`
	Unknown  bool         `json:"unknown,omitempty"`
	Note     string       `json:"note,omitempty"`
	Source   string       `json:"source,omitempty"`
}

// StepToJSON converts s.
func StepToJSON(s eval.Step) StepJSON {
	j := StepJSON{Action: s.Action.String(), Unknown: s.Unknown, Note: s.Note}
	if s.Tier != model.TierUnknown {
		j.Tier = s.Tier.String()
	}
	if !s.Conns.IsEmpty() {
		c := ConnSetToJSON(s.Conns)
		j.Conns = &c
	}
	if s.Policy != nil {
		j.Policy = s.Policy.Name
		if s.Policy.Namespace != "" {
			j.Policy = s.Policy.Namespace + "/" + s.Policy.Name
		}
		j.Kind = s.Policy.Kind
		j.Source = s.Policy.Source.Location()
		if s.Policy.Tier != model.TierNetworkPolicy {
			p := s.Policy.Priority
			j.Priority = &p
		}
	}
	if s.Rule != nil {
		j.Rule = s.Rule.Ref()
		j.RuleName = s.Rule.Name
	}
	return j
}

type connJSON struct {
	Src       string       `json:"src"`
	Dst       string       `json:"dst"`
	Allowed   ConnSetJSON  `json:"allowed"`
	Unknown   *ConnSetJSON `json:"unknown,omitempty"`
	AllowedBy *sidesJSON   `json:"allowedBy,omitempty"`
}

type sidesJSON struct {
	Egress  []StepJSON `json:"egress"`
	Ingress []StepJSON `json:"ingress"`
}

type analysisJSONDoc struct {
	APIVersion  string         `json:"apiVersion"`
	Kind        string         `json:"kind"`
	Endpoints   []EndpointJSON `json:"endpoints"`
	Connections []connJSON     `json:"connections"`
}

func analysisJSON(w io.Writer, a *Analysis) error {
	doc := analysisJSONDoc{APIVersion: APIVersion, Kind: "Connectivity",
		Endpoints: []EndpointJSON{}, Connections: []connJSON{}}
	for _, ep := range a.Endpoints {
		doc.Endpoints = append(doc.Endpoints, EndpointToJSON(a.Engine, ep))
	}
	for _, c := range a.Conns {
		cj := connJSON{Src: c.Src.ID(), Dst: c.Dst.ID(), Allowed: ConnSetToJSON(c.Allowed)}
		if !c.Unknown.IsEmpty() {
			u := ConnSetToJSON(c.Unknown)
			cj.Unknown = &u
		}
		if a.Explain {
			eg, in := a.Engine.AllowedBy(c.Src, c.Dst)
			cj.AllowedBy = &sidesJSON{Egress: stepsJSON(eg), Ingress: stepsJSON(in)}
		}
		doc.Connections = append(doc.Connections, cj)
	}
	return writeJSON(w, doc)
}

func stepsJSON(steps []eval.Step) []StepJSON {
	out := []StepJSON{}
	for _, s := range steps {
		out = append(out, StepToJSON(s))
	}
	return out
}

// writeJSON writes v indented, with a final newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteJSON writes any document the way every bulkhead command does.
func WriteJSON(w io.Writer, v any) error { return writeJSON(w, v) }
