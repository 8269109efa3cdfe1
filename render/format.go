package render

import (
	"fmt"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// Format is an output format name as given to -o.
type Format string

const (
	Text     Format = "txt"
	JSON     Format = "json"
	CSV      Format = "csv"
	Markdown Format = "md"
	DOT      Format = "dot"
)

// ParseFormat checks f against the formats a command supports.
func ParseFormat(f string, supported ...Format) (Format, error) {
	if f == "text" || f == "" {
		f = "txt"
	}
	if f == "markdown" {
		f = "md"
	}
	var names []string
	for _, s := range supported {
		if Format(f) == s {
			return s, nil
		}
		names = append(names, string(s))
	}
	return "", fmt.Errorf("unknown output format %q (want one of %s)", f, strings.Join(names, ", "))
}

// StepString formats one decision step for people, e.g.
// "Admin ClusterNetworkPolicy tenants (priority 10) egress[2] 'same-tenant': Pass"
// or "NetworkPolicy shop/allow-web ingress[0]: Allow TCP 80".
func StepString(s eval.Step) string {
	var b strings.Builder
	if s.Policy == nil {
		if s.Tier != model.TierUnknown {
			b.WriteString(s.Tier.String())
			b.WriteString(": ")
		}
		b.WriteString(s.Action.String())
		if !s.Conns.IsAll() {
			b.WriteString(" " + s.Conns.String())
		}
		b.WriteString(" (" + s.Note + ")")
		return b.String()
	}
	if s.Tier != model.TierNetworkPolicy {
		b.WriteString(s.Tier.String())
		b.WriteByte(' ')
	}
	b.WriteString(PolicyRef(s.Policy))
	if s.Rule != nil {
		b.WriteByte(' ')
		b.WriteString(s.Rule.Ref())
	}
	b.WriteString(": ")
	b.WriteString(s.Action.String())
	if !s.Conns.IsAll() {
		b.WriteString(" " + s.Conns.String())
	}
	if s.Unknown {
		b.WriteString(" (only if a domain name resolves to the peer: unknown)")
	}
	return b.String()
}

// PolicyRef names a policy with its priority where it has one:
// "NetworkPolicy shop/allow-web", "ClusterNetworkPolicy tenants (priority 10)".
func PolicyRef(p *model.Policy) string {
	if p.Tier == model.TierNetworkPolicy {
		return p.Ref()
	}
	return fmt.Sprintf("%s (priority %d)", p.Ref(), p.Priority)
}

// RuleRef names a step's rule compactly for connection lines:
// "shop/allow-web ingress[0]" or "tenants egress[2]".
func RuleRef(s eval.Step) string {
	name := s.Policy.Name
	if s.Policy.Namespace != "" {
		name = s.Policy.Namespace + "/" + name
	}
	if s.Rule == nil {
		return name
	}
	return name + " " + s.Rule.Ref()
}

// Why formats the rules that allow a connection, per side:
// "egress: shop/allow-dns egress[0]; ingress: kube-system/dns ingress[0]".
// A side no policy restricts is omitted.
func Why(egress, ingress []eval.Step) string {
	var parts []string
	for _, side := range []struct {
		name  string
		steps []eval.Step
	}{{"egress", egress}, {"ingress", ingress}} {
		var refs []string
		for _, s := range side.steps {
			if s.Policy == nil {
				continue
			}
			refs = append(refs, RuleRef(s))
		}
		if len(refs) > 0 {
			parts = append(parts, side.name+": "+strings.Join(dedupe(refs), ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
