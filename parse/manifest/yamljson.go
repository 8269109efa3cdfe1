package manifest

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// jsonText is an object's JSON encoding with a map from JSON offsets back
// to the lines of the source, so that decoding errors can name a line.
type jsonText struct {
	data []byte
	// offs[i] is the JSON offset where a value from source line lines[i]
	// starts; offs is ascending.
	offs  []int32
	lines []int32
}

// lineAt returns the source line of the last value starting at or before
// JSON offset off, or 0 when unknown.
func (j *jsonText) lineAt(off int64) int {
	i := sort.Search(len(j.offs), func(i int) bool { return int64(j.offs[i]) > off })
	if i == 0 {
		if len(j.lines) == 0 {
			return 0
		}
		return int(j.lines[0])
	}
	return int(j.lines[i-1])
}

// emitter writes a yaml.v3 node tree as JSON. It reads scalars as
// kubectl does (sigs.k8s.io/yaml, YAML 1.1): unquoted yes, no, on, off, y
// and n are booleans, so that a manifest kubectl would reject for a
// boolean in a string field is rejected here too.
type emitter struct {
	jsonText
	lineBase int // file line of the chunk's first line, minus one
	budget   int // values left to write, against alias bombs
	err      *emitError
}

type emitError struct {
	line int
	msg  string
}

const maxDepth = 200

func newEmitter(lineBase, srcLen int) *emitter {
	return &emitter{lineBase: lineBase, budget: 4*srcLen + 10000}
}

func (e *emitter) fail(n *yaml.Node, format string, args ...any) {
	if e.err == nil {
		e.err = &emitError{line: e.lineBase + n.Line, msg: fmt.Sprintf(format, args...)}
	}
}

func (e *emitter) mark(n *yaml.Node) {
	e.offs = append(e.offs, int32(len(e.data)))
	e.lines = append(e.lines, int32(e.lineBase+n.Line))
}

func (e *emitter) value(n *yaml.Node, depth int) {
	if e.err != nil {
		return
	}
	e.budget--
	if e.budget < 0 {
		e.fail(n, "the document expands to too many values (aliases)")
		return
	}
	if depth > maxDepth {
		e.fail(n, "the document is nested more than %d levels deep", maxDepth)
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			e.fail(n, "unknown alias")
			return
		}
		e.value(n.Alias, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			e.data = append(e.data, "null"...)
			return
		}
		e.value(n.Content[0], depth+1)
	case yaml.MappingNode:
		e.mark(n)
		pairs := n.Content
		if hasMerge(n) {
			pairs = e.merged(n, depth)
		}
		e.data = append(e.data, '{')
		for i := 0; i+1 < len(pairs); i += 2 {
			if i > 0 {
				e.data = append(e.data, ',')
			}
			key, ok := e.key(pairs[i])
			if !ok {
				return
			}
			e.data = appendString(e.data, key)
			e.data = append(e.data, ':')
			e.value(pairs[i+1], depth+1)
		}
		e.data = append(e.data, '}')
	case yaml.SequenceNode:
		e.mark(n)
		e.data = append(e.data, '[')
		for i, c := range n.Content {
			if i > 0 {
				e.data = append(e.data, ',')
			}
			e.value(c, depth+1)
		}
		e.data = append(e.data, ']')
	case yaml.ScalarNode:
		e.mark(n)
		e.scalar(n)
	default:
		e.fail(n, "unexpected YAML node")
	}
}

// key returns a mapping key as a JSON object key: the text of a scalar,
// with booleans, numbers and null in their JSON spelling.
func (e *emitter) key(n *yaml.Node) (string, bool) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		e.fail(n, "a mapping key must be a string, not a %s", kindName(n))
		return "", false
	}
	tag := n.ShortTag()
	if tag == "!!str" && (n.Style != 0 || !isBoolWord(n.Value)) {
		return n.Value, true // the common case, without a detour through JSON
	}
	if tag == "!!null" {
		e.fail(n, "a mapping key must be a string, not null")
		return "", false
	}
	start := len(e.data)
	e.scalar(n)
	text := string(e.data[start:])
	e.data = e.data[:start]
	if strings.HasPrefix(text, `"`) {
		var s string
		if err := json.Unmarshal([]byte(text), &s); err == nil {
			return s, true
		}
	}
	return text, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "node"
}

func isBoolWord(s string) bool {
	_, ok := yaml11Bools[s]
	return ok
}

// yaml11Bools are the plain scalars YAML 1.1 (and so kubectl) reads as
// booleans, beyond true and false.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

func (e *emitter) scalar(n *yaml.Node) {
	switch n.ShortTag() {
	case "!!null":
		e.data = append(e.data, "null"...)
		return
	case "!!bool":
		if b, ok := yaml11Bools[n.Value]; ok {
			e.data = strconv.AppendBool(e.data, b)
		} else {
			e.data = strconv.AppendBool(e.data, strings.EqualFold(n.Value, "true"))
		}
		return
	case "!!int":
		plain := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			e.data = strconv.AppendInt(e.data, i, 10)
			return
		}
		if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
			e.data = strconv.AppendUint(e.data, u, 10)
			return
		}
		if f, err := strconv.ParseFloat(plain, 64); err == nil && !math.IsInf(f, 0) {
			e.data = strconv.AppendFloat(e.data, f, 'g', -1, 64)
			return
		}
	case "!!float":
		v := strings.ReplaceAll(n.Value, "_", "")
		switch strings.ToLower(strings.TrimLeft(v, "+-")) {
		case ".inf", ".nan":
			e.fail(n, "%s has no JSON form", n.Value)
			return
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			e.data = strconv.AppendFloat(e.data, f, 'g', -1, 64)
			return
		}
	case "!!str":
		if n.Style == 0 {
			if b, ok := yaml11Bools[n.Value]; ok {
				e.data = strconv.AppendBool(e.data, b)
				return
			}
		}
	}
	e.data = appendString(e.data, n.Value)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func hasMerge(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			return true
		}
	}
	return false
}

// merged returns the key/value pairs of a mapping with merge keys ("<<")
// resolved: keys of the mapping itself win over merged ones, and earlier
// merged mappings over later ones.
func (e *emitter) merged(n *yaml.Node, depth int) []*yaml.Node {
	var out []*yaml.Node
	seen := map[string]bool{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		seen[k.Value] = true
		out = append(out, k, v)
	}
	var from func(v *yaml.Node, depth int)
	from = func(v *yaml.Node, depth int) {
		if e.err != nil {
			return
		}
		if depth > maxDepth {
			e.fail(v, "merge keys nested more than %d levels deep", maxDepth)
			return
		}
		for v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		switch v.Kind {
		case yaml.SequenceNode:
			for _, c := range v.Content {
				from(c, depth+1)
			}
		case yaml.MappingNode:
			pairs := v.Content
			if hasMerge(v) {
				pairs = e.merged(v, depth+1)
			}
			for i := 0; i+1 < len(pairs); i += 2 {
				e.budget--
				if k := pairs[i]; !seen[k.Value] {
					seen[k.Value] = true
					out = append(out, k, pairs[i+1])
				}
			}
		default:
			e.fail(v, "a merge key (<<) must refer to a mapping or a sequence of mappings")
		}
	}
	for _, m := range merges {
		from(m, depth+1)
	}
	return out
}
