package render

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/bulkhead/bulkhead/model"
)

// analysisDOT writes a Graphviz digraph: one cluster per namespace, the
// outside world and nodes as separate shapes, one edge per connection
// labelled with its ports.
func analysisDOT(w io.Writer, a *Analysis) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("digraph connectivity {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	byNS := map[string][]*model.Endpoint{}
	var others []*model.Endpoint
	for _, ep := range a.Endpoints {
		if ep.IsPodLike() {
			byNS[ep.Namespace] = append(byNS[ep.Namespace], ep)
		} else {
			others = append(others, ep)
		}
	}
	nss := make([]string, 0, len(byNS))
	for ns := range byNS {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for i, ns := range nss {
		fmt.Fprintf(bw, "  subgraph cluster_%d {\n    label=%s;\n    style=dashed;\n", i, strconv.Quote(ns))
		for _, ep := range byNS[ns] {
			label := ep.Name
			if ep.Workload != "" {
				label += "\\n[" + ep.Workload + "]"
			}
			attrs := ""
			if ep.HostNetwork {
				attrs = ", color=orange, xlabel=\"hostNetwork\""
			}
			fmt.Fprintf(bw, "    %s [label=\"%s\"%s];\n", strconv.Quote(ep.ID()), label, attrs)
		}
		bw.WriteString("  }\n")
	}
	for _, ep := range others {
		shape := "ellipse"
		if ep.Kind == model.EndpointNode {
			shape = "box3d"
		}
		fmt.Fprintf(bw, "  %s [shape=%s];\n", strconv.Quote(ep.ID()), shape)
	}
	for _, c := range a.Conns {
		fmt.Fprintf(bw, "  %s -> %s [label=%s];\n", strconv.Quote(c.Src.ID()), strconv.Quote(c.Dst.ID()), strconv.Quote(connsString(c)))
	}
	bw.WriteString("}\n")
	return bw.Flush()
}
