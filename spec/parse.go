package spec

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/bulkhead/bulkhead/internal/typo"
	"github.com/bulkhead/bulkhead/model"
	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Parse parses a ConnectivityTest document. name is the file name used in
// problems. It returns the spec with every valid part and every problem
// found, each naming the file, the line and the field; the spec is nil
// only when the document cannot be read at all. A spec with problems must
// not be run: a test that was meant to check something and silently
// checks less is worse than no test.
func Parse(name string, data []byte) (*Spec, []model.Problem) {
	p := &parser{spec: &Spec{File: name}}
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.problem(1, "", "empty document: want a ConnectivityTest")
		} else {
			line, msg := yamlError(err)
			p.problem(line, "", "invalid YAML: "+msg)
		}
		return nil, p.problems
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.problem(extra.Line, "", "a second YAML document: a spec file holds one ConnectivityTest")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	p.document(root)
	return p.spec, p.problems
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError extracts the line of a YAML syntax error.
func yamlError(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 1, strings.TrimPrefix(msg, "yaml: ")
}

type parser struct {
	spec     *Spec
	problems []model.Problem
}

func (p *parser) problem(line int, field, msg string) {
	p.problems = append(p.problems, model.Problem{
		Source:   model.Source{File: p.spec.File, Line: line, Kind: Kind, Name: p.spec.Name},
		Field:    field,
		Severity: model.SeverityError,
		Msg:      msg,
	})
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	}
	return "nothing"
}

// fields walks a mapping, calling the handler of each known key and
// reporting unknown and duplicate keys. It returns false when n is not a
// mapping.
func (p *parser) fields(n *yaml.Node, path string, handlers map[string]func(v *yaml.Node, path string)) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.problem(n.Line, path, "want a mapping, got "+kindWord(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		fp := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			p.problem(k.Line, path, "keys must be strings")
			continue
		}
		if seen[k.Value] {
			p.problem(k.Line, fp, "duplicate field")
			continue
		}
		seen[k.Value] = true
		h, ok := handlers[k.Value]
		if !ok {
			p.problem(k.Line, fp, "unknown field"+suggest(k.Value, handlers))
			continue
		}
		h(v, fp)
	}
	return true
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// suggest proposes the known field closest to a misspelt one.
func suggest(got string, known map[string]func(*yaml.Node, string)) string {
	if best := typo.Closest(got, maps.Keys(known), 2); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// scalar returns the value of a scalar node, reporting anything else.
func (p *parser) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.problem(n.Line, path, "want a string, got "+kindWord(n))
		return "", false
	}
	return n.Value, true
}

// list returns the items of a list; a scalar counts as a list of one.
func (p *parser) list(n *yaml.Node, path string) []*yaml.Node {
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out[i] = resolve(c)
		}
		return out
	case yaml.ScalarNode, yaml.MappingNode:
		if n.Tag != "!!null" {
			return []*yaml.Node{n}
		}
	}
	p.problem(n.Line, path, "want a list, got "+kindWord(n))
	return nil
}

func index(path string, i int, n int) string {
	if n == 1 {
		return path
	}
	return fmt.Sprintf("%s[%d]", path, i)
}

func (p *parser) document(root *yaml.Node) {
	s := p.spec
	var apiVersion, kind string
	var tests, zones *yaml.Node
	ok := p.fields(root, "", map[string]func(*yaml.Node, string){
		"apiVersion": func(v *yaml.Node, f string) { apiVersion, _ = p.scalar(v, f) },
		"kind":       func(v *yaml.Node, f string) { kind, _ = p.scalar(v, f) },
		"metadata": func(v *yaml.Node, f string) {
			p.fields(v, f, map[string]func(*yaml.Node, string){
				"name": func(v *yaml.Node, f string) { s.Name, _ = p.scalar(v, f) },
				"labels": func(v *yaml.Node, f string) {
					if v.Kind != yaml.MappingNode {
						p.problem(v.Line, f, "want a mapping, got "+kindWord(v))
					}
				},
				"annotations": func(v *yaml.Node, f string) {
					if v.Kind != yaml.MappingNode {
						p.problem(v.Line, f, "want a mapping, got "+kindWord(v))
					}
				},
			})
		},
		"manifests": func(v *yaml.Node, f string) {
			items := p.list(v, f)
			for i, it := range items {
				if m, ok := p.scalar(it, fmt.Sprintf("%s[%d]", f, i)); ok {
					s.Manifests = append(s.Manifests, m)
				}
			}
		},
		"zones": func(v *yaml.Node, f string) { zones = v; _ = f },
		"tests": func(v *yaml.Node, f string) { tests = v; _ = f },
	})
	if !ok {
		return
	}
	line := root.Line
	switch {
	case apiVersion == "":
		p.problem(line, "apiVersion", "Required value: want "+APIVersion)
	case apiVersion != APIVersion:
		p.problem(line, "apiVersion", fmt.Sprintf("Unsupported value: %q: want %s", apiVersion, APIVersion))
	}
	switch {
	case kind == "":
		p.problem(line, "kind", "Required value: want "+Kind)
	case kind != Kind:
		p.problem(line, "kind", fmt.Sprintf("Unsupported value: %q: want %s", kind, Kind))
	}
	if s.Name == "" {
		p.problem(line, "metadata.name", "Required value: name the test suite")
	}
	if zones != nil {
		p.zones(zones, "zones")
	}
	if tests == nil {
		p.problem(line, "tests", "Required value: list at least one test")
		return
	}
	p.tests(tests, "tests")
}

func (p *parser) zones(n *yaml.Node, path string) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.problem(n.Line, path, "want a mapping of zone names to endpoint selectors, got "+kindWord(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		fp := path + "." + k.Value
		switch {
		case k.Value == Internet:
			p.problem(k.Line, fp, "the zone internet is built in (every address outside the cluster); choose another name")
			continue
		case len(validation.IsDNS1123Label(k.Value)) > 0:
			p.problem(k.Line, fp, "zone names are lower-case DNS labels (a-z, 0-9, -)")
			continue
		case p.spec.Zone(k.Value) != nil:
			p.problem(k.Line, fp, "duplicate zone")
			continue
		}
		z := &Zone{Name: k.Value, Line: k.Line}
		items := p.list(v, fp)
		for j, it := range items {
			sel := p.selector(it, index(fp, j, len(items)))
			if sel == nil {
				continue
			}
			if sel.Zone != "" {
				p.problem(sel.Line, sel.Field+".zone", "zones cannot refer to zones")
				continue
			}
			z.Selectors = append(z.Selectors, sel)
		}
		if len(items) == 0 && v.Kind == yaml.SequenceNode {
			p.problem(v.Line, fp, "a zone needs at least one selector")
		}
		p.spec.Zones = append(p.spec.Zones, z)
	}
}

// selector parses an endpoint selector: a mapping, or the shorthand
// "ns/name" for {workload: ns/name}.
func (p *parser) selector(n *yaml.Node, path string) *Selector {
	sel := &Selector{Field: path, Line: n.Line}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if !strings.Contains(n.Value, "/") {
			p.problem(n.Line, path, fmt.Sprintf("%q: a selector is a mapping (namespace, namespaceLabels, labels, workload, cidr, external, zone) or ns/name for a workload", n.Value))
			return nil
		}
		sel.Workload = n.Value
		if !p.workloadRef(n.Value, n.Line, path) {
			return nil
		}
		return sel
	}
	before := len(p.problems)
	ok := p.fields(n, path, map[string]func(*yaml.Node, string){
		"namespace": func(v *yaml.Node, f string) {
			if s, ok := p.scalar(v, f); ok {
				if len(validation.IsDNS1123Label(s)) > 0 {
					p.problem(v.Line, f, fmt.Sprintf("Invalid value: %q: not a namespace name", s))
					return
				}
				sel.Namespace = s
			}
		},
		"namespaceLabels": func(v *yaml.Node, f string) { sel.NamespaceLabels = p.labelSelector(v, f) },
		"labels":          func(v *yaml.Node, f string) { sel.Labels = p.labelSelector(v, f) },
		"workload": func(v *yaml.Node, f string) {
			if s, ok := p.scalar(v, f); ok && p.workloadRef(s, v.Line, f) {
				sel.Workload = s
			}
		},
		"cidr": func(v *yaml.Node, f string) {
			if s, ok := p.scalar(v, f); ok {
				pr, err := netip.ParsePrefix(strings.TrimSpace(s))
				if err != nil {
					p.problem(v.Line, f, fmt.Sprintf("Invalid value: %q: want a CIDR such as 203.0.113.0/24", s))
					return
				}
				sel.CIDR = pr.Masked()
			}
		},
		"external": func(v *yaml.Node, f string) {
			if v.Kind != yaml.ScalarNode || (v.Value != "true" && v.Value != "false") {
				p.problem(v.Line, f, "want true or false")
				return
			}
			sel.External = v.Value == "true"
		},
		"zone": func(v *yaml.Node, f string) {
			if s, ok := p.scalar(v, f); ok {
				sel.Zone = s
			}
		},
	})
	if !ok || len(p.problems) > before {
		return nil
	}
	switch {
	case !sel.podFields() && !sel.CIDR.IsValid() && !sel.External && sel.Zone == "":
		p.problem(n.Line, path, "an empty selector: name a namespace, labels, a workload, a cidr, external: true or a zone")
		return nil
	case sel.podFields() && (sel.CIDR.IsValid() || sel.External):
		p.problem(n.Line, path, "cidr and external select addresses outside the cluster; they cannot be combined with namespace, labels or workload")
		return nil
	}
	return sel
}

var workloadRE = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([^/\[\]]+)(\[[A-Za-z]+\])?$`)

func (p *parser) workloadRef(s string, line int, path string) bool {
	if !workloadRE.MatchString(s) {
		p.problem(line, path, fmt.Sprintf("Invalid value: %q: want namespace/name or namespace/name[Kind]", s))
		return false
	}
	return true
}

// labelSelector parses a label selector: kubectl's -l syntax as a string
// ("app=web,tier in (a,b)"), a mapping of labels that must all match, or
// a LabelSelector with matchLabels and matchExpressions.
func (p *parser) labelSelector(n *yaml.Node, path string) *model.Selector {
	var ls *metav1.LabelSelector
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			p.problem(n.Line, path, "want a label selector, got null")
			return nil
		}
		var err error
		if ls, err = metav1.ParseToLabelSelector(n.Value); err != nil {
			p.problem(n.Line, path, fmt.Sprintf("Invalid value: %q: %v", n.Value, err))
			return nil
		}
	case yaml.MappingNode:
		ls = &metav1.LabelSelector{}
		structured := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i]).Value
			if k == "matchLabels" || k == "matchExpressions" {
				structured = true
			}
		}
		if structured {
			p.fields(n, path, map[string]func(*yaml.Node, string){
				"matchLabels": func(v *yaml.Node, f string) { ls.MatchLabels = p.stringMap(v, f) },
				"matchExpressions": func(v *yaml.Node, f string) {
					for i, it := range p.list(v, f) {
						fp := fmt.Sprintf("%s[%d]", f, i)
						var r metav1.LabelSelectorRequirement
						p.fields(it, fp, map[string]func(*yaml.Node, string){
							"key":      func(v *yaml.Node, f string) { r.Key, _ = p.scalar(v, f) },
							"operator": func(v *yaml.Node, f string) { op, _ := p.scalar(v, f); r.Operator = metav1.LabelSelectorOperator(op) },
							"values": func(v *yaml.Node, f string) {
								for j, x := range p.list(v, f) {
									if s, ok := p.scalar(x, fmt.Sprintf("%s[%d]", f, j)); ok {
										r.Values = append(r.Values, s)
									}
								}
							},
						})
						ls.MatchExpressions = append(ls.MatchExpressions, r)
					}
				},
			})
		} else {
			ls.MatchLabels = p.stringMap(n, path)
		}
	default:
		p.problem(n.Line, path, "want a label selector (app=web, a mapping of labels, or matchLabels/matchExpressions), got "+kindWord(n))
		return nil
	}
	sel, err := model.SelectorFromLabelSelector(ls)
	if err != nil {
		p.problem(n.Line, path, "Invalid value: "+err.Error())
		return nil
	}
	return &sel
}

func (p *parser) stringMap(n *yaml.Node, path string) map[string]string {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.problem(n.Line, path, "want a mapping of labels, got "+kindWord(n))
		return nil
	}
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if v.Kind != yaml.ScalarNode {
			p.problem(v.Line, join(path, k.Value), "want a string, got "+kindWord(v))
			continue
		}
		m[k.Value] = v.Value
	}
	return m
}

func (p *parser) tests(n *yaml.Node, path string) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.problem(n.Line, path, "want a list of tests, got "+kindWord(n))
		return
	}
	if len(n.Content) == 0 {
		p.problem(n.Line, path, "Required value: list at least one test")
	}
	names := map[string]int{}
	for i, item := range n.Content {
		item = resolve(item)
		fp := fmt.Sprintf("%s[%d]", path, i)
		t := p.test(item, fp)
		if t == nil {
			continue
		}
		if first, dup := names[t.Name]; dup {
			p.problem(item.Line, fp+".name", fmt.Sprintf("duplicate test name %q (also tests[%d])", t.Name, first))
			continue
		}
		names[t.Name] = i
		p.spec.Tests = append(p.spec.Tests, t)
	}
}

func (p *parser) test(n *yaml.Node, path string) *Test {
	t := &Test{Field: path, Line: n.Line, Ports: model.AllConns()}
	before := len(p.problems)
	var expect, ruleField string
	var ports *yaml.Node
	selectors := func(v *yaml.Node, f string) []*Selector {
		var out []*Selector
		items := p.list(v, f)
		for i, it := range items {
			if s := p.selector(it, index(f, i, len(items))); s != nil {
				out = append(out, s)
			}
		}
		if len(items) == 0 && v.Kind == yaml.SequenceNode {
			p.problem(v.Line, f, "list at least one endpoint selector")
		}
		return out
	}
	zoneList := func(rule ZoneRule) func(*yaml.Node, string) {
		return func(v *yaml.Node, f string) {
			if t.Rule != ZoneRuleUnknown {
				p.problem(v.Line, f, fmt.Sprintf("a test has one zone rule; %s is already given", ruleField))
				return
			}
			t.Rule, ruleField = rule, f
			items := p.list(v, f)
			for i, it := range items {
				if s, ok := p.scalar(it, index(f, i, len(items))); ok {
					t.Zones = append(t.Zones, s)
				}
			}
			if len(items) == 0 && v.Kind == yaml.SequenceNode {
				p.problem(v.Line, f, "list at least one zone")
			}
		}
	}
	ok := p.fields(n, path, map[string]func(*yaml.Node, string){
		"name":              func(v *yaml.Node, f string) { t.Name, _ = p.scalar(v, f) },
		"from":              func(v *yaml.Node, f string) { t.From = selectors(v, f) },
		"to":                func(v *yaml.Node, f string) { t.To = selectors(v, f) },
		"expect":            func(v *yaml.Node, f string) { expect, _ = p.scalar(v, f) },
		"ports":             func(v *yaml.Node, f string) { ports = v; _ = f },
		"zone":              func(v *yaml.Node, f string) { t.Zone, _ = p.scalar(v, f) },
		"notReachableFrom":  zoneList(NotReachableFrom),
		"reachableOnlyFrom": zoneList(ReachableOnlyFrom),
		"mayReachOnly":      zoneList(MayReachOnly),
	})
	if !ok {
		return nil
	}
	if ports != nil {
		p.ports(t, ports, path+".ports")
	}
	hasFromTo := t.From != nil || t.To != nil || expect != ""
	switch {
	case t.Rule != ZoneRuleUnknown || t.Zone != "":
		if hasFromTo {
			p.problem(n.Line, path, "a test is either an expectation (from, to, expect) or a zone rule (zone with notReachableFrom, reachableOnlyFrom or mayReachOnly), not both")
			break
		}
		if t.Zone == "" {
			p.problem(n.Line, path+".zone", "Required value: the zone the rule is about")
		}
		if t.Rule == ZoneRuleUnknown {
			p.problem(n.Line, path, "Required value: a zone rule: notReachableFrom, reachableOnlyFrom or mayReachOnly")
		}
		for _, z := range append([]string{t.Zone}, t.Zones...) {
			if z != "" && z != Internet && p.spec.Zone(z) == nil {
				p.problem(n.Line, path, fmt.Sprintf("unknown zone %q%s", z, p.zoneHint()))
			}
		}
	default:
		if t.From == nil && !p.failedAt(before, path+".from") {
			p.problem(n.Line, path+".from", "Required value: the source endpoints")
		}
		if t.To == nil && !p.failedAt(before, path+".to") {
			p.problem(n.Line, path+".to", "Required value: the destination endpoints")
		}
		switch expect {
		case "allow":
			t.Expect = Allow
		case "deny":
			t.Expect = Deny
		case "allow-some":
			t.Expect = AllowSome
		case "":
			p.problem(n.Line, path+".expect", "Required value: allow, deny or allow-some")
		default:
			p.problem(n.Line, path+".expect", fmt.Sprintf("Unsupported value: %q: want allow, deny or allow-some", expect))
		}
		for _, s := range append(append([]*Selector(nil), t.From...), t.To...) {
			if s.Zone != "" && s.Zone != Internet && p.spec.Zone(s.Zone) == nil {
				p.problem(s.Line, s.Field+".zone", fmt.Sprintf("unknown zone %q%s", s.Zone, p.zoneHint()))
			}
		}
	}
	if len(p.problems) > before {
		return nil
	}
	if t.Name == "" {
		t.Name = defaultName(t)
	}
	return t
}

// failedAt reports whether a problem since before concerns field path.
func (p *parser) failedAt(before int, path string) bool {
	for _, pr := range p.problems[before:] {
		if strings.HasPrefix(pr.Field, path) {
			return true
		}
	}
	return false
}

func (p *parser) zoneHint() string {
	names := []string{Internet}
	for _, z := range p.spec.Zones {
		names = append(names, z.Name)
	}
	return " (zones: " + strings.Join(names, ", ") + ")"
}

// ports parses a test's ports: "80/TCP", "8000-8080/TCP", "53/UDP", "443"
// (TCP), "TCP" (every TCP port), or "any" (every connection, other IP
// protocols included).
func (p *parser) ports(t *Test, n *yaml.Node, path string) {
	items := p.list(n, path)
	if len(items) == 0 {
		return
	}
	var c model.ConnSet
	for i, it := range items {
		f := index(path, i, len(items))
		s, ok := p.scalar(it, f)
		if !ok {
			continue
		}
		pc, err := ParsePorts(s)
		if err != nil {
			p.problem(it.Line, f, err.Error())
			continue
		}
		c = c.Union(pc)
		t.PortsText = append(t.PortsText, strings.TrimSpace(s))
	}
	t.Ports = c
}

// ParsePorts parses one item of a test's ports: "80/TCP",
// "8000-8080/udp", "443" (TCP), "TCP" (every TCP port), "any" or "all"
// (every connection, other IP protocols included).
func ParsePorts(s string) (model.ConnSet, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "any", "all":
		return model.AllConns(), nil
	}
	if proto, err := model.ParseProtocol(s); err == nil {
		return model.ConnsOf(proto, model.AllPorts()), nil
	}
	num, protoText, hasProto := strings.Cut(s, "/")
	proto := model.TCP
	if hasProto {
		var err error
		if proto, err = model.ParseProtocol(protoText); err != nil {
			return model.ConnSet{}, fmt.Errorf("Invalid value: %q: %v", s, err)
		}
	}
	r, err := model.ParsePortRange(num)
	if err != nil {
		return model.ConnSet{}, fmt.Errorf("Invalid value: %q: want PORT/PROTOCOL (80/TCP), FIRST-LAST/PROTOCOL (8000-8080/TCP), a protocol (UDP) or any", s)
	}
	return model.ConnsOf(proto, model.PortsOf(r)), nil
}

// defaultName names a test that has no name from its content.
func defaultName(t *Test) string {
	if t.IsZoneRule() {
		return fmt.Sprintf("zone %s %s %s", t.Zone, t.Rule, strings.Join(t.Zones, ", "))
	}
	sels := func(ss []*Selector) string {
		parts := make([]string, len(ss))
		for i, s := range ss {
			parts[i] = s.String()
		}
		return strings.Join(parts, " or ")
	}
	return fmt.Sprintf("%s %s -> %s on %s", t.Expect, sels(t.From), sels(t.To), t.PortsString())
}
