package manifest

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fastYAML converts one YAML document written in the plain block style
// that kubectl, yaml.Marshal and most tools write (block mappings and
// sequences, one-line plain and quoted scalars, literal block scalars,
// comments, empty {} and []) straight into JSON, several times faster
// than building a yaml.v3 node tree. It reports !ok for anything else
// (flow collections, anchors, tags, folded or multi-line scalars, escapes,
// tabs, non-ASCII text, syntax errors), and the caller falls back to
// yaml.v3. On the subset it writes exactly the JSON and line marks that
// the yaml.v3 path writes; FuzzFastYAML checks that.
func fastYAML(data []byte, lineBase int) (*jsonText, bool) {
	for _, c := range data {
		if c >= 0x7f || (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
			return nil, false
		}
	}
	p := fastParser{e: newEmitter(lineBase, len(data)), ok: true, finalNewline: len(data) > 0 && data[len(data)-1] == '\n'}
	p.e.data = make([]byte, 0, len(data))
	num := 0
	for len(data) > 0 {
		num++
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if bytes.IndexByte(l, '\r') >= 0 {
			return nil, false
		}
		t := bytes.TrimLeft(l, " ")
		p.lines = append(p.lines, fline{raw: l, indent: len(l) - len(t), text: bytes.TrimRight(t, " "), num: num})
	}
	for p.i < len(p.lines) {
		l := &p.lines[p.i]
		if len(l.text) > 0 && l.text[0] != '#' {
			if l.indent == 0 && string(l.text) == "---" {
				p.i++
			}
			break
		}
		p.i++
	}
	l := p.peek()
	if l == nil || isSeqEntry(l.text) {
		return nil, false // not an object: let the general path say so
	}
	p.block(l)
	if p.peek() != nil || !p.ok || p.e.err != nil {
		return nil, false
	}
	return &p.e.jsonText, true
}

type fline struct {
	raw    []byte
	indent int
	text   []byte // after the indentation, without trailing spaces
	num    int    // 1-based line in the document
}

type fastParser struct {
	lines []fline
	i     int
	e     *emitter
	ok    bool
	depth int
	// tmp is the scalar node handed to the emitter, reused to spare
	// allocations; the emitter keeps no reference to it.
	tmp yaml.Node
	// finalNewline is whether the text ends with a line break, which a
	// literal scalar ending the text keeps or not.
	finalNewline bool
}

// peek returns the next line with content, skipping blank and comment
// lines, or nil at the end.
func (p *fastParser) peek() *fline {
	for p.i < len(p.lines) {
		l := &p.lines[p.i]
		if len(l.text) > 0 && l.text[0] != '#' {
			if bytes.IndexByte(l.raw, '\t') >= 0 || (l.indent == 0 && (bytes.HasPrefix(l.text, []byte("---")) || bytes.HasPrefix(l.text, []byte("...")) || l.text[0] == '%')) {
				p.ok = false
				return nil
			}
			return l
		}
		p.i++
	}
	return nil
}

func (p *fastParser) mark(line int) {
	p.e.offs = append(p.e.offs, int32(len(p.e.data)))
	p.e.lines = append(p.e.lines, int32(p.e.lineBase+line))
}

func isSeqEntry(t []byte) bool { return t[0] == '-' && (len(t) == 1 || t[1] == ' ') }

// block writes the mapping or sequence starting at line l.
func (p *fastParser) block(l *fline) {
	p.depth++
	if p.depth > maxDepth {
		p.ok = false
		return
	}
	if isSeqEntry(l.text) {
		p.sequence(l.indent)
	} else {
		p.mapping(l.indent)
	}
	p.depth--
}

func (p *fastParser) mapping(ind int) {
	first := true
	for p.ok {
		l := p.peek()
		if l == nil || l.indent < ind {
			break
		}
		if l.indent > ind || isSeqEntry(l.text) {
			p.ok = false
			return
		}
		key, style, rest, ok := parseKey(l.text)
		if !ok || (style == 0 && key == "<<") {
			p.ok = false
			return
		}
		if first {
			p.mark(l.num)
			p.e.data = append(p.e.data, '{')
			first = false
		} else {
			p.e.data = append(p.e.data, ',')
		}
		if style != 0 || (plainTag(key, 0) == "!!str" && !isBoolWord(key)) {
			p.e.data = appendString(p.e.data, key)
		} else {
			p.tmp = yaml.Node{Kind: yaml.ScalarNode, Value: key, Line: l.num}
			k, kok := p.e.key(&p.tmp)
			if !kok {
				p.ok = false
				return
			}
			p.e.data = appendString(p.e.data, k)
		}
		p.e.data = append(p.e.data, ':')
		p.i++
		if len(rest) > 0 && rest[0] != '#' {
			p.inline(rest, l.num, ind)
			continue
		}
		switch n := p.peek(); {
		case n != nil && n.indent > ind:
			p.block(n)
		case n != nil && n.indent == ind && isSeqEntry(n.text):
			p.depth++
			p.sequence(ind)
			p.depth--
		default:
			p.mark(l.num)
			p.e.data = append(p.e.data, "null"...)
		}
	}
	if first {
		p.ok = false
		return
	}
	p.e.data = append(p.e.data, '}')
}

func (p *fastParser) sequence(ind int) {
	first := true
	for p.ok {
		l := p.peek()
		if l == nil || l.indent < ind || (l.indent == ind && !isSeqEntry(l.text)) {
			break
		}
		if l.indent > ind {
			p.ok = false
			return
		}
		if first {
			p.mark(l.num)
			p.e.data = append(p.e.data, '[')
			first = false
		} else {
			p.e.data = append(p.e.data, ',')
		}
		rest := bytes.TrimLeft(l.text[1:], " ")
		off := len(l.text) - len(rest)
		switch {
		case len(rest) == 0 || rest[0] == '#':
			p.i++
			if n := p.peek(); n != nil && n.indent > ind {
				p.block(n)
			} else {
				p.mark(l.num)
				p.e.data = append(p.e.data, "null"...)
			}
		case isSeqEntry(rest):
			// "- - x": the item is a sequence starting on this line.
			l.indent, l.text = ind+off, rest
			p.block(l)
		default:
			if _, _, _, isKey := parseKey(rest); isKey {
				// "- key: value": the item is a mapping whose first key
				// is on this line.
				l.indent, l.text = ind+off, rest
				p.block(l)
				continue
			}
			p.i++
			p.inline(rest, l.num, ind)
		}
	}
	if first {
		p.ok = false
		return
	}
	p.e.data = append(p.e.data, ']')
}

// inline writes the value written on a line after "key:" or "- ".
func (p *fastParser) inline(v []byte, line, parent int) {
	p.tmp = yaml.Node{Kind: yaml.ScalarNode, Line: line}
	n := &p.tmp
	switch v[0] {
	case '"', '\'':
		s, style, rest, ok := quoted(v)
		if !ok || (len(rest) > 0 && rest[0] != '#') {
			p.ok = false
			return
		}
		n.Value, n.Style = s, style
	case '{', '[':
		t := v
		if i := bytes.Index(t, []byte(" #")); i >= 0 {
			t = bytes.TrimRight(t[:i], " ")
		}
		if string(t) != "{}" && string(t) != "[]" {
			p.ok = false
			return
		}
		p.mark(line)
		p.e.data = append(p.e.data, t...)
		p.noContinuation(parent)
		return
	case '|':
		p.literal(v, line, parent)
		return
	case '&', '*', '!', '%', '@', '`', '?', ':', '>', ',', ']', '}', '#':
		p.ok = false
		return
	case '-':
		if len(v) == 1 || v[1] == ' ' {
			p.ok = false
			return
		}
		fallthrough
	default:
		if i := bytes.Index(v, []byte(" #")); i >= 0 {
			v = bytes.TrimRight(v[:i], " ")
		}
		if bytes.Contains(v, []byte(": ")) || v[len(v)-1] == ':' {
			p.ok = false
			return
		}
		n.Value = string(v)
		n.Tag = plainTag(n.Value, 0)
		if n.Tag == "!!str" && !isBoolWord(n.Value) {
			// The common case: a plain string, written as it is.
			p.mark(line)
			p.e.data = appendString(p.e.data, n.Value)
			p.noContinuation(parent)
			return
		}
	}
	p.mark(line)
	p.e.scalar(n)
	p.noContinuation(parent)
}

// noContinuation fails on a line indented deeper than the value's parent:
// a multi-line scalar, or an error.
func (p *fastParser) noContinuation(parent int) {
	if n := p.peek(); n != nil && n.indent > parent {
		p.ok = false
	}
}

// literal writes a literal block scalar ("|", "|-" or "|+").
func (p *fastParser) literal(v []byte, line, parent int) {
	chomp := byte(0)
	h := v[1:]
	if len(h) > 0 && (h[0] == '-' || h[0] == '+') {
		chomp, h = h[0], h[1:]
	}
	// After the header only a comment may follow, after white space.
	if t := bytes.TrimLeft(h, " "); len(t) > 0 && (t[0] != '#' || len(t) == len(h)) {
		p.ok = false
		return
	}
	// Content lines are those indented deeper than the parent; the first
	// non-blank one sets the indentation.
	ind := -1
	var body []string
	trailing := 0
	for p.i < len(p.lines) {
		l := &p.lines[p.i]
		if bytes.IndexByte(l.raw, '\t') >= 0 {
			p.ok = false // tabs near indentation are subtle: leave them to yaml.v3
			return
		}
		if len(l.text) == 0 {
			if ind < 0 && len(l.raw) > 0 {
				p.ok = false // leading blank lines with spaces
				return
			}
			if ind >= 0 && len(l.raw) > ind {
				p.ok = false // spaces beyond the indentation are content
				return
			}
			trailing++
			p.i++
			continue
		}
		if ind < 0 {
			if l.indent <= parent {
				break
			}
			ind = l.indent
		}
		if l.indent < ind {
			break
		}
		for ; trailing > 0; trailing-- {
			body = append(body, "")
		}
		body = append(body, string(l.raw[ind:]))
		p.i++
	}
	if len(body) == 0 || (p.i == len(p.lines) && !p.finalNewline) {
		p.ok = false
		return
	}
	s := strings.Join(body, "\n")
	switch chomp {
	case 0:
		s += "\n"
	case '+':
		s += strings.Repeat("\n", trailing+1)
	}
	// The blank lines after the scalar belong to it only with "|+"; as
	// blank lines they are nothing to the rest of the document.
	p.mark(line)
	p.e.scalar(&yaml.Node{Kind: yaml.ScalarNode, Value: s, Style: yaml.LiteralStyle, Line: line})
	p.noContinuation(parent)
}

// plainTag returns "!!str" for a plain scalar that yaml.v3 resolves to a
// string without trying to parse it: one starting with a letter, other
// than true, false and null in their three spellings; or one starting
// with a digit that is no timestamp ("2006-01-02...") and that no number
// syntax accepts: with two dots (an IP address, a version) or with a
// character no integer or float has ("100m", "128Mi"). It returns ""
// otherwise, and yaml.v3 resolves the tag. It only saves time.
func plainTag(v string, style yaml.Style) string {
	if style != 0 || v == "" {
		return ""
	}
	c := v[0]
	switch {
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		switch v {
		case "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL":
			return ""
		}
		return "!!str"
	case '0' <= c && c <= '9':
		if len(v) >= 5 && v[4] == '-' && isDigits(v[:4]) {
			return "" // perhaps a timestamp
		}
		if strings.Count(v, ".") >= 2 {
			return "!!str"
		}
		for i := 0; i < len(v); i++ {
			if !strings.ContainsRune(numberChars, rune(v[i])) {
				return "!!str"
			}
		}
	}
	return ""
}

// numberChars are the characters of YAML integers and floats in any base.
const numberChars = "0123456789abcdefABCDEFxXoObB._+-"

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseKey splits "key: rest" or "key:" into the key, its style and the
// rest, for plain and one-line quoted keys without escapes.
func parseKey(t []byte) (key string, style yaml.Style, rest []byte, ok bool) {
	// YAML limits implicit keys to 1024 characters; stay well clear.
	const maxKey = 1000
	switch t[0] {
	case '"', '\'':
		s, st, after, ok := quoted(t)
		if !ok || len(after) == 0 || after[0] != ':' || (len(after) > 1 && after[1] != ' ') || len(t)-len(after) > maxKey {
			return "", 0, nil, false
		}
		return s, st, bytes.TrimLeft(after[1:], " "), true
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		return "", 0, nil, false
	}
	i := bytes.Index(t, []byte(": "))
	if i < 0 {
		if t[len(t)-1] != ':' {
			return "", 0, nil, false
		}
		i = len(t) - 1
	}
	k := t[:i]
	if i > maxKey || bytes.Contains(k, []byte(" #")) || len(k) == 0 || k[len(k)-1] == ' ' {
		return "", 0, nil, false
	}
	return string(k), 0, bytes.TrimLeft(t[i+1:], " "), true
}

// quoted reads a one-line quoted scalar at the start of t: single-quoted
// with ” for a quote, or double-quoted without escapes. It returns the
// value, its style and what follows, trimmed.
func quoted(t []byte) (string, yaml.Style, []byte, bool) {
	q := t[0]
	if q == '"' {
		end := bytes.IndexByte(t[1:], '"')
		if end < 0 || bytes.IndexByte(t[1:1+end], '\\') >= 0 {
			return "", 0, nil, false
		}
		return string(t[1 : 1+end]), yaml.DoubleQuotedStyle, bytes.TrimLeft(t[2+end:], " "), true
	}
	var b []byte
	for i := 1; i < len(t); i++ {
		if t[i] != '\'' {
			b = append(b, t[i])
			continue
		}
		if i+1 < len(t) && t[i+1] == '\'' {
			b = append(b, '\'')
			i++
			continue
		}
		return string(b), yaml.SingleQuotedStyle, bytes.TrimLeft(t[i+1:], " "), true
	}
	return "", 0, nil, false
}
