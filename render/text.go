package render

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// table writes aligned columns. Cells may carry ANSI colours: widths are
// computed on the visible text.
type table struct {
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func visibleLen(s string) int {
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

func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], visibleLen(c))
		}
	}
	bw := bufio.NewWriter(w)
	for _, r := range t.rows {
		for i, c := range r {
			bw.WriteString(c)
			if i < len(r)-1 {
				bw.WriteString(strings.Repeat(" ", widths[i]-visibleLen(c)+2))
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func analysisText(w io.Writer, a *Analysis, st Style) error {
	var t table
	header := []string{"SOURCE", "DESTINATION", "CONNECTIONS"}
	if a.Explain {
		header = append(header, "ALLOWED BY")
	}
	for i := range header {
		header[i] = st.bold(header[i])
	}
	t.add(header...)
	for _, c := range a.Conns {
		row := []string{c.Src.ID(), c.Dst.ID(), st.good(connsString(c))}
		if a.Explain {
			row = append(row, st.dim(a.why(c)))
		}
		t.add(row...)
	}
	if err := t.write(w); err != nil {
		return err
	}
	var b strings.Builder
	if len(a.Conns) == 0 {
		b.WriteString("no connections allowed between the endpoints in scope\n")
	}
	for _, n := range a.notes() {
		b.WriteString("\n" + n + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
