package render

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/bulkhead/bulkhead/render/table"
)

// Cell is one entry of a truth table.
type Cell uint8

const (
	Denied Cell = iota
	Allowed
	// Unknown: allowed only if a domain name resolves to the destination.
	Unknown
)

// Matrix is a truth table per port: Cells[port][src][dst] over Endpoints
// (IDs) as sources and destinations.
type Matrix struct {
	Ports []string // "80/TCP"
	IDs   []string
	Cells [][][]Cell
}

// MatrixFormats are the formats WriteMatrix supports.
var MatrixFormats = []Format{Text, JSON, CSV, Markdown}

// WriteMatrix writes m in format f.
func WriteMatrix(w io.Writer, f Format, m *Matrix, st Style) error {
	switch f {
	case Text:
		return matrixText(w, m, st)
	case JSON:
		return matrixJSON(w, m)
	case CSV:
		return matrixCSV(w, m)
	case Markdown:
		return matrixMarkdown(w, m)
	}
	return fmt.Errorf("matrix: unsupported output format %q", f)
}

func (c Cell) symbol() string {
	switch c {
	case Allowed:
		return "."
	case Unknown:
		return "?"
	}
	return "X"
}

// matrixText writes one table per port. Columns are numbered to keep the
// table narrow; row labels carry the number and the endpoint ID.
func matrixText(w io.Writer, m *Matrix, st Style) error {
	bw := bufio.NewWriter(w)
	for pi, port := range m.Ports {
		if pi > 0 {
			bw.WriteByte('\n')
		}
		var t table.Table
		header := []string{st.Bold(port), ""}
		for j := range m.IDs {
			header = append(header, strconv.Itoa(j+1))
		}
		t.Add(header...)
		for i, id := range m.IDs {
			row := []string{strconv.Itoa(i + 1), id}
			for j := range m.IDs {
				c := m.Cells[pi][i][j]
				s := c.symbol()
				switch c {
				case Allowed:
					s = st.Good(s)
				case Denied:
					s = st.Bad(s)
				}
				row = append(row, s)
			}
			t.Add(row...)
		}
		if err := t.Write(bw); err != nil {
			return err
		}
	}
	bw.WriteString("\n. allowed   X denied   ? depends on domain names   (rows: sources, columns: destinations)\n")
	return bw.Flush()
}

// matrixJSON writes exactly {"80/TCP": {"ns/src": {"ns/dst": true}}}, the
// shape `bulkhead lab run -o json` writes too, so the two compare
// directly. Unknown cells are false: not known to be allowed.
func matrixJSON(w io.Writer, m *Matrix) error {
	out := make(map[string]map[string]map[string]bool, len(m.Ports))
	for pi, port := range m.Ports {
		rows := make(map[string]map[string]bool, len(m.IDs))
		for i, src := range m.IDs {
			row := make(map[string]bool, len(m.IDs))
			for j, dst := range m.IDs {
				row[dst] = m.Cells[pi][i][j] == Allowed
			}
			rows[src] = row
		}
		out[port] = rows
	}
	return writeJSON(w, out)
}

func matrixCSV(w io.Writer, m *Matrix) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("port,src,dst,allowed\n")
	for pi, port := range m.Ports {
		for i, src := range m.IDs {
			for j, dst := range m.IDs {
				fmt.Fprintf(bw, "%s,%s,%s,%v\n", port, src, dst, m.Cells[pi][i][j] == Allowed)
			}
		}
	}
	return bw.Flush()
}

func matrixMarkdown(w io.Writer, m *Matrix) error {
	bw := bufio.NewWriter(w)
	for pi, port := range m.Ports {
		fmt.Fprintf(bw, "### %s\n\n| from \\ to |", port)
		for j := range m.IDs {
			fmt.Fprintf(bw, " %d |", j+1)
		}
		bw.WriteString("\n|---|")
		for range m.IDs {
			bw.WriteString("---|")
		}
		bw.WriteByte('\n')
		for i, id := range m.IDs {
			fmt.Fprintf(bw, "| %d `%s` |", i+1, id)
			for j := range m.IDs {
				bw.WriteString(" " + m.Cells[pi][i][j].symbol() + " |")
			}
			bw.WriteByte('\n')
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
