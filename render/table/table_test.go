package table_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead/bulkhead/render/table"
)

func TestWrite(t *testing.T) {
	colour := table.Style{Color: true}
	tests := []struct {
		name   string
		indent string
		rows   [][]string
		want   string
	}{
		{"empty", "", nil, ""},
		{"aligned", "", [][]string{{"A", "BB", "C"}, {"dddd", "e", "f"}},
			"A     BB  C\n" +
				"dddd  e   f\n"},
		{"last column not padded", "", [][]string{{"a", "long last"}, {"b", "x"}},
			"a  long last\n" +
				"b  x\n"},
		{"ragged rows", "", [][]string{{"a"}, {"bb", "c"}},
			"a\n" +
				"bb  c\n"},
		{"colours do not count", "", [][]string{{colour.Bold("NAME"), "X"}, {"ab", "y"}},
			"\x1b[1mNAME\x1b[0m  X\n" +
				"ab    y\n"},
		{"runes, not bytes", "", [][]string{{"é", "1"}, {"ab", "2"}},
			"é   1\n" +
				"ab  2\n"},
		{"indent", "  ", [][]string{{"a", "b"}, {"cc", "d"}},
			"  a   b\n" +
				"  cc  d\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := table.Table{Indent: tt.indent}
			for _, r := range tt.rows {
				tb.Add(r...)
			}
			if tb.Len() != len(tt.rows) {
				t.Errorf("Len() = %d, want %d", tb.Len(), len(tt.rows))
			}
			var buf bytes.Buffer
			if err := tb.Write(&buf); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStyle(t *testing.T) {
	plain, colour := table.Style{}, table.Style{Color: true}
	for _, f := range []func(table.Style) func(string) string{
		func(s table.Style) func(string) string { return s.Good },
		func(s table.Style) func(string) string { return s.Bad },
		func(s table.Style) func(string) string { return s.Bold },
		func(s table.Style) func(string) string { return s.Dim },
	} {
		if got := f(plain)("x"); got != "x" {
			t.Errorf("plain style painted %q", got)
		}
		if got := f(colour)(""); got != "" {
			t.Errorf("empty text painted %q", got)
		}
		if got := f(colour)("x"); table.VisibleLen(got) != 1 || got == "x" {
			t.Errorf("coloured %q", got)
		}
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct{ in, escaped, code string }{
		{"plain", "plain", "`plain`"},
		{"a|b", `a\|b`, "`a\\|b`"},
		{"*x_y*", `\*x\_y\*`, "`*x_y*`"},
		{"<none>", "&lt;none&gt;", "`<none>`"},
		{"two\nlines", "two lines", "`two\nlines`"},
		{"`tick`", "`tick`", "`'tick'`"},
	}
	for _, tt := range tests {
		if got := table.MDEscape(tt.in); got != tt.escaped {
			t.Errorf("MDEscape(%q) = %q, want %q", tt.in, got, tt.escaped)
		}
		if got := table.MDCode(tt.in); got != tt.code {
			t.Errorf("MDCode(%q) = %q, want %q", tt.in, got, tt.code)
		}
	}
}
