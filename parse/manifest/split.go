package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// unit is a piece of input decoded on its own, so that documents decode
// concurrently: a YAML document, a JSON value, or one item of a large
// list.
type unit struct {
	file string
	line int // file line of data's first byte
	data []byte
	json bool
	// list is the apiVersion and kind of the list an item came from, for
	// items split out of a list.
	list *listCtx
	// whole is the document an item was split from by text; when any of
	// its items does not parse on its own, the whole document is decoded
	// instead, so that the split never changes the result.
	whole *unit
}

type listCtx struct{ apiVersion, kind string }

// splitMin is the size from which a list document is split into its
// items, which then decode concurrently.
const splitMin = 64 << 10

// isJSON reports whether data looks like JSON rather than YAML.
func isJSON(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(data) > 0 && (data[0] == '{' || data[0] == '[')
}

// splitJSON splits a stream of JSON values into units, and large lists
// into their items.
func splitJSON(file string, data []byte) []unit {
	var out []unit
	s := jscan{b: data}
	line := 1
	last := 0
	for {
		s.ws()
		if s.i >= len(s.b) {
			return out
		}
		start := s.i
		line += bytes.Count(data[last:start], []byte{'\n'})
		last = start
		// One pass over an object finds its end, its kind and its items.
		var m jsonMeta
		var ok bool
		if s.b[s.i] == '{' {
			m, ok = s.meta()
		} else {
			ok = s.skip()
		}
		if !ok {
			// Malformed: let the JSON decoder report it from here on.
			return append(out, unit{file: file, line: line, data: data[start:], json: true})
		}
		u := unit{file: file, line: line, data: data[start:s.i], json: true}
		if len(u.data) >= splitMin && isListKind(m.kind) && m.items != nil {
			ctx := &listCtx{m.apiVersion, m.kind}
			iline, ilast := u.line, 0
			for _, it := range m.items {
				iline += bytes.Count(u.data[ilast:it.start-start], []byte{'\n'})
				ilast = it.start - start
				out = append(out, unit{file: file, line: iline, data: data[it.start:it.end], json: true, list: ctx})
			}
			continue
		}
		out = append(out, u)
	}
}

func isListKind(kind string) bool { return strings.HasSuffix(kind, "List") }

// splitYAML splits a YAML stream into its documents at "---" and "..."
// marker lines, which YAML forbids inside content, so the split is exact.
// Documents holding only comments are dropped; directives ("%YAML") stay
// with the document they precede.
func splitYAML(file string, data []byte) []unit {
	var out []unit
	start, startLine := 0, 1
	pending := false // the current chunk so far holds only directives
	line := 1
	flush := func(end int) {
		chunk := data[start:end]
		switch {
		case blank(chunk):
		case directivesOnly(chunk):
			pending = true
			return
		default:
			u := unit{file: file, line: startLine, data: chunk}
			if len(chunk) >= splitMin {
				if items, ok := splitYAMLList(u); ok {
					out = append(out, items...)
					break
				}
			}
			out = append(out, u)
		}
		pending = false
	}
	for i := 0; i < len(data); {
		next := nextLine(data, i)
		l := data[i:next]
		if i > start && (marker(l, "---") || marker(l, "...")) {
			flush(i)
			if !pending {
				start, startLine = i, line
			}
			if marker(l, "...") && !pending {
				// The end marker belongs to no document.
				start, startLine = next, line+1
			}
		}
		i = next
		line++
	}
	if start < len(data) {
		flush(len(data))
	}
	return out
}

// marker reports whether line is the document marker m ("---" or "..."),
// alone or followed by white space.
func marker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	return len(line) == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\n' || line[3] == '\r'
}

// blank reports whether a chunk holds no YAML content: only white space,
// comments and a bare "---".
func blank(chunk []byte) bool {
	for len(chunk) > 0 {
		var l []byte
		l, chunk = cutLine(chunk)
		t := bytes.TrimSpace(l)
		if marker(t, "---") {
			t = bytes.TrimSpace(t[3:])
		}
		if len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("\ufeff")) {
			return false
		}
	}
	return true
}

func directivesOnly(chunk []byte) bool {
	seen := false
	for len(chunk) > 0 {
		var l []byte
		l, chunk = cutLine(chunk)
		t := bytes.TrimSpace(l)
		switch {
		case len(t) == 0 || t[0] == '#':
		case t[0] == '%':
			seen = true
		default:
			return false
		}
	}
	return seen
}

// nextLine returns the offset of the line after the one at offset i.
func nextLine(data []byte, i int) int {
	if end := bytes.IndexByte(data[i:], '\n'); end >= 0 {
		return i + end + 1
	}
	return len(data)
}

// cutLine returns the first line of b, without its line break, and the
// rest.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// splitYAMLList splits a large list document in block style, as kubectl
// writes it ("items:" at the top level, then one "- " per item), into one
// unit per item. The split is by text, so it is only a guess: each item
// unit points back to the whole document, which is decoded instead when
// any item does not parse on its own (an alias to another item, say).
func splitYAMLList(u unit) ([]unit, bool) {
	data := u.data
	var header bytes.Buffer
	type itemSpan struct{ start, end, line int }
	var items []itemSpan
	indent := -1 // indentation of the items' "-", once known
	inItems := false
	line := u.line
	for i := 0; i < len(data); {
		next := nextLine(data, i)
		l := data[i:next]
		t := bytes.TrimLeft(l, " ")
		ind := len(l) - len(t)
		content := len(bytes.TrimSpace(t)) > 0 && t[0] != '#'
		switch {
		case !inItems:
			if ind == 0 && bytes.Equal(bytes.TrimRight(l, " \r\n"), []byte("items:")) {
				if items != nil {
					return nil, false // a second items key
				}
				inItems = true
				items = []itemSpan{}
				header.WriteString("items: []\n")
			} else {
				header.Write(l)
			}
		case !content:
			header.WriteByte('\n')
			if len(items) > 0 {
				items[len(items)-1].end = next
			}
		default:
			isItem := t[0] == '-' && (len(t) == 1 || t[1] == ' ' || t[1] == '\n' || t[1] == '\r')
			if indent < 0 {
				if !isItem {
					return nil, false
				}
				indent = ind
			}
			switch {
			case isItem && ind == indent:
				items = append(items, itemSpan{i, next, line})
				header.WriteByte('\n')
			case ind > indent && len(items) > 0:
				items[len(items)-1].end = next
				header.WriteByte('\n')
			default:
				// The items end; the rest is the list's header again.
				inItems = false
				header.Write(l)
			}
		}
		i = next
		line++
	}
	if len(items) == 0 {
		return nil, false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(header.Bytes(), &doc); err != nil || len(doc.Content) == 0 {
		return nil, false
	}
	root := doc.Content[0]
	apiVersion, _ := scalarAt(root, "apiVersion")
	kind, _ := scalarAt(root, "kind")
	if !isListKind(kind) {
		return nil, false
	}
	ctx := &listCtx{apiVersion, kind}
	whole := u
	out := make([]unit, 0, len(items))
	for _, it := range items {
		b := append([]byte(nil), data[it.start:it.end]...)
		// "- apiVersion: v1" becomes "  apiVersion: v1": the item's
		// mapping keeps its columns.
		b[bytes.IndexByte(b, '-')] = ' '
		out = append(out, unit{file: u.file, line: it.line, data: b, list: ctx, whole: &whole})
	}
	return out, true
}

// scalarAt returns the string value of key in a YAML mapping.
func scalarAt(n *yaml.Node, key string) (string, bool) {
	v := mapGet(n, key)
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		return "", false
	}
	return v.Value, true
}

// mapGet returns the value of key in a YAML mapping, or nil.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			v := n.Content[i+1]
			for v != nil && v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// jscan is a minimal JSON scanner that finds value boundaries and a few
// top-level fields without decoding, fast enough to split large lists
// before they are decoded concurrently. It does not validate: the JSON
// decoder does that on each piece.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			if bytes.HasPrefix(s.b[s.i:], []byte("\ufeff")) {
				s.i += 3
				continue
			}
			return
		}
	}
}

// skip moves past one value.
func (s *jscan) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.strEnd(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	default:
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return s.i > start
			}
			s.i++
		}
		return s.i > start
	}
}

// strEnd moves past a string starting at s.i and reports whether it has
// escapes.
func (s *jscan) strEnd() (escaped, ok bool) {
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			return escaped, true
		}
		s.i++
	}
	return false, false
}

func (s *jscan) str() (string, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	start := s.i
	escaped, ok := s.strEnd()
	if !ok {
		return "", false
	}
	raw := s.b[start:s.i]
	if !escaped {
		return string(raw[1 : len(raw)-1]), true
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	return v, true
}

// object calls field for each key of the object at s.i; field must
// consume the value.
func (s *jscan) object(field func(key string) bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	for first := true; ; first = false {
		if done, ok := s.next(first, '}'); done || !ok {
			return ok
		}
		key, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		if !field(key) {
			return false
		}
	}
}

// array calls elem for each element of the array at s.i, with s.i at the
// element; elem must consume it.
func (s *jscan) array(elem func(i int) bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return false
	}
	s.i++
	for i := 0; ; i++ {
		if done, ok := s.next(i == 0, ']'); done || !ok {
			return ok
		}
		if !elem(i) {
			return false
		}
	}
}

// next moves to the next element of an object or array that c closes.
// It reports done after c, and !ok without a comma between elements.
func (s *jscan) next(first bool, c byte) (done, ok bool) {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true, true
	}
	if !first {
		if s.i >= len(s.b) || s.b[s.i] != ',' {
			return false, false
		}
		s.i++
		s.ws()
	}
	return false, true
}

type span struct{ start, end int }

// jsonMeta is what the loader needs of a JSON object before decoding it.
type jsonMeta struct {
	apiVersion, kind, name, namespace string
	// items are the spans of the items array; nil when there is none.
	items []span
	// hasItems is whether the object has an items field, of any type;
	// nullItems whether it is null.
	hasItems, nullItems bool
}

func (s *jscan) strField(dst *string) bool {
	if s.i < len(s.b) && s.b[s.i] == '"' {
		v, ok := s.str()
		*dst = v
		return ok
	}
	return s.skip()
}

// scanMeta reads the type, name and namespace of a JSON object, and the
// spans of its items.
func scanMeta(data []byte) (jsonMeta, bool) {
	s := jscan{b: data}
	m, ok := s.meta()
	s.ws()
	return m, ok && s.i == len(s.b)
}

// meta reads the object at s.i as scanMeta does, and moves past it. The
// spans are offsets into s.b.
func (s *jscan) meta() (jsonMeta, bool) {
	var m jsonMeta
	ok := s.object(func(key string) bool {
		switch key {
		case "apiVersion":
			return s.strField(&m.apiVersion)
		case "kind":
			return s.strField(&m.kind)
		case "metadata":
			if s.i < len(s.b) && s.b[s.i] != '{' {
				return s.skip()
			}
			return s.object(func(key string) bool {
				switch key {
				case "name":
					return s.strField(&m.name)
				case "namespace":
					return s.strField(&m.namespace)
				}
				return s.skip()
			})
		case "items":
			m.hasItems = true
			if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
				m.nullItems = true
			}
			if s.i >= len(s.b) || s.b[s.i] != '[' {
				return s.skip()
			}
			m.items = []span{}
			return s.array(func(int) bool {
				start := s.i
				if !s.skip() {
					return false
				}
				m.items = append(m.items, span{start, s.i})
				return true
			})
		}
		return s.skip()
	})
	return m, ok
}

// jsonPath returns the field path ("spec.containers[0].ports[1].name") of
// the innermost value of the JSON object data that holds offset off: a
// value that starts before off and ends at or after it. The JSON
// decoder's type errors give the offset where it stopped, just after the
// bad value or inside it, but a path without list indexes.
func jsonPath(data []byte, off int64) string {
	s := jscan{b: data}
	var path strings.Builder
	for {
		s.ws()
		if s.i >= len(s.b) {
			return path.String()
		}
		switch s.b[s.i] {
		case '{':
			found := false
			ok := s.object(func(key string) bool {
				start := s.i
				if !s.skip() {
					return false
				}
				if !found && int64(start) < off && off <= int64(s.i) {
					found = true
					if path.Len() > 0 {
						path.WriteByte('.')
					}
					path.WriteString(key)
					s.i = start
					return false // descend into this value
				}
				return true
			})
			if !found || ok {
				return path.String()
			}
		case '[':
			found := false
			s.array(func(n int) bool {
				start := s.i
				if !s.skip() {
					return false
				}
				if int64(start) < off && off <= int64(s.i) {
					found = true
					fmt.Fprintf(&path, "[%d]", n)
					s.i = start
					return false // descend into this element
				}
				return true
			})
			if !found {
				return path.String()
			}
		default:
			return path.String()
		}
	}
}
