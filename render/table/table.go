package table

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// Table is a text table: rows of cells, written with columns aligned.
// The zero value is an empty table without indent.
type Table struct {
	// Indent is written before every row.
	Indent string
	rows   [][]string
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.rows = append(t.rows, cells) }

// Len returns the number of rows.
func (t *Table) Len() int { return len(t.rows) }

// Write writes the rows, each after Indent, with two spaces between
// columns and no trailing spaces. The last column is never padded.
func (t *Table) Write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], VisibleLen(c))
		}
	}
	bw := bufio.NewWriter(w)
	for _, r := range t.rows {
		bw.WriteString(t.Indent)
		for i, c := range r {
			bw.WriteString(c)
			if i < len(r)-1 {
				bw.WriteString(strings.Repeat(" ", widths[i]-VisibleLen(c)+2))
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// VisibleLen returns the number of runes of s that a terminal shows: ANSI
// escape sequences count for nothing.
func VisibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j := strings.IndexByte(s[i:], 'm')
			if j < 0 {
				break
			}
			i += j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// MDEscape makes s safe inside a Markdown table cell.
func MDEscape(s string) string {
	return mdEscaper.Replace(s)
}

var mdEscaper = strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;")

// MDCode formats s as inline code in a table cell. Backticks protect
// everything but the pipe, which GitHub still reads as a cell border.
func MDCode(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, "`", "'"), "|", `\|`) + "`"
}

// Style says how text output may decorate itself; the zero value writes
// plain text.
type Style struct {
	// Color enables ANSI colours; the CLI sets it only on a terminal.
	Color bool
}

func (s Style) paint(code, t string) string {
	if !s.Color || t == "" {
		return t
	}
	return code + t + "\x1b[0m"
}

// Good paints t green.
func (s Style) Good(t string) string { return s.paint("\x1b[32m", t) }

// Bad paints t red.
func (s Style) Bad(t string) string { return s.paint("\x1b[31m", t) }

// Bold makes t bold.
func (s Style) Bold(t string) string { return s.paint("\x1b[1m", t) }

// Dim makes t faint.
func (s Style) Dim(t string) string { return s.paint("\x1b[2m", t) }
