package render

import (
	"encoding/csv"
	"io"
)

func analysisCSV(w io.Writer, a *Analysis) error {
	cw := csv.NewWriter(w)
	header := []string{"src", "dst", "connections"}
	if a.Explain {
		header = append(header, "allowed_by")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, c := range a.Conns {
		row := []string{c.Src.ID(), c.Dst.ID(), connsString(c)}
		if a.Explain {
			row = append(row, a.why(c))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
