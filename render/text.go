package render

import (
	"io"
	"strings"

	"github.com/bulkhead/bulkhead/render/table"
)

func analysisText(w io.Writer, a *Analysis, st Style) error {
	var t table.Table
	header := []string{"SOURCE", "DESTINATION", "CONNECTIONS"}
	if a.Explain {
		header = append(header, "ALLOWED BY")
	}
	for i := range header {
		header[i] = st.Bold(header[i])
	}
	t.Add(header...)
	for _, c := range a.Conns {
		row := []string{c.Src.ID(), c.Dst.ID(), st.Good(connsString(c))}
		if a.Explain {
			row = append(row, st.Dim(a.why(c)))
		}
		t.Add(row...)
	}
	if err := t.Write(w); err != nil {
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
