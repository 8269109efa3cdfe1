package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
)

// graph is the connectivity graph, laid out for SVG: boxes (namespaces,
// the outside world, the nodes) holding nodes, and edges between nodes.
type graph struct {
	Width, Height int
	PerNamespace  bool
	Boxes         []box
	Nodes         []node
	Edges         []edge
}

type box struct {
	X, Y, W, H int
	Label      string
	Class      string
}

type node struct {
	Index      int
	X, Y, W, H int
	// TX, TY place the label.
	TX, TY       int
	Label, Title string
	Class        string
}

type edge struct {
	From, To int
	D        string
	Class    string
	Title    string
	Width    string
}

// Layout constants, in SVG user units (pixels at 100%).
const (
	nodeW, nodeH = 200, 34
	nodeGap      = 14
	boxPad       = 14
	boxHead      = 28
	boxGap       = 40
	maxLabel     = 26
)

// shorten cuts a label to maxLabel characters.
func shorten(s string) string {
	r := []rune(s)
	if len(r) <= maxLabel {
		return s
	}
	return string(r[:maxLabel-1]) + "…"
}

// cols is the number of columns of a grid of n items: a square, at most
// limit wide.
func cols(n, limit int) int {
	c := int(math.Ceil(math.Sqrt(float64(n))))
	return max(1, min(c, limit))
}

// group is a box's members before layout.
type group struct {
	label, class string
	members      []int // node indices
}

// maxRowWidth is the width the layout fills before it starts a new row
// of boxes, so that the page needs no horizontal scrolling on a laptop.
const maxRowWidth = 1320

// layout places the groups' nodes in boxes (at most three columns of
// nodes each) and the boxes in rows, left to right, a new row when the
// next box would pass maxRowWidth; it sets the canvas size.
func layout(g *graph, groups []group) {
	x, y, rowH := boxGap/2, boxGap/2, 0
	for _, gr := range groups {
		nc := cols(len(gr.members), 3)
		if len(gr.members) > 12 {
			nc = max(nc, min(6, (maxRowWidth-2*boxPad)/(nodeW+nodeGap)))
		}
		nr := (len(gr.members) + nc - 1) / nc
		w := max(2*boxPad+nc*nodeW+(nc-1)*nodeGap, 2*boxPad+8*len(gr.label))
		h := boxHead + boxPad + nr*nodeH + (nr-1)*nodeGap
		if x > boxGap/2 && x+w > maxRowWidth {
			x, y, rowH = boxGap/2, y+rowH+boxGap, 0
		}
		b := box{X: x, Y: y, W: w, H: h, Label: gr.label, Class: gr.class}
		g.Boxes = append(g.Boxes, b)
		for k, ni := range gr.members {
			n := &g.Nodes[ni]
			n.X = b.X + boxPad + (k%nc)*(nodeW+nodeGap)
			n.Y = b.Y + boxHead + (k/nc)*(nodeH+nodeGap)
			n.W, n.H = nodeW, nodeH
			n.TX, n.TY = n.X+nodeW/2, n.Y+nodeH/2+4
		}
		g.Width = max(g.Width, x+w+boxGap/2)
		x += w + boxGap
		rowH = max(rowH, h)
	}
	g.Height = y + rowH + boxGap/2
}

// endpointGraph draws every pod and workload, and the nodes and outside
// address ranges that have connections, with one edge per connected pair.
func endpointGraph(e *eval.Engine, conn *eval.Connectivity) *graph {
	g := &graph{}
	index := map[*model.Endpoint]int{}
	add := func(ep *model.Endpoint) int {
		if i, ok := index[ep]; ok {
			return i
		}
		n := node{Index: len(g.Nodes), Label: shorten(ep.Name), Title: ep.ID()}
		switch {
		case ep.HostNetwork:
			n.Class = "hostnet"
			n.Title += " (hostNetwork: no policy applies)"
		case ep.Kind == model.EndpointWorkload:
			n.Class = "workload"
			n.Title += " [" + ep.Workload + "]"
		case ep.Kind == model.EndpointNode:
			n.Class = "nodeep"
		case ep.Kind == model.EndpointExternal:
			n.Class = "external"
			n.Label = shorten(ep.External.String())
		default:
			n.Class = "pod"
		}
		if ep.IsPolicySubject() {
			in, eg := e.Isolation(ep)
			n.Title += fmt.Sprintf("\ningress isolated: %v, egress isolated: %v", in, eg)
		}
		index[ep] = n.Index
		g.Nodes = append(g.Nodes, n)
		return n.Index
	}
	byNS := map[string][]int{}
	for _, ep := range e.Endpoints() {
		if ep.IsPodLike() {
			byNS[ep.Namespace] = append(byNS[ep.Namespace], add(ep))
		}
	}
	var outside, nodes []int
	type pair struct{ from, to int }
	var edges []pair
	var titles []string
	var classes []string
	conn.Each(func(c eval.Conn) bool {
		for _, ep := range []*model.Endpoint{c.Src, c.Dst} {
			if _, ok := index[ep]; !ok {
				i := add(ep)
				if ep.Kind == model.EndpointNode {
					nodes = append(nodes, i)
				} else {
					outside = append(outside, i)
				}
			}
		}
		edges = append(edges, pair{index[c.Src], index[c.Dst]})
		t := c.Src.ID() + " → " + c.Dst.ID() + ": " + c.Allowed.String()
		cl := "some"
		switch {
		case c.Allowed.IsAll():
			cl = "all"
		case c.Allowed.IsEmpty():
			cl = "unknown"
		}
		if !c.Unknown.IsEmpty() {
			t += " (unknown: " + c.Unknown.String() + ", depends on domain names)"
		}
		titles, classes = append(titles, t), append(classes, cl)
		return true
	})
	names := make([]string, 0, len(byNS))
	for ns := range byNS {
		names = append(names, ns)
	}
	sort.Strings(names)
	var groups []group
	for _, ns := range names {
		groups = append(groups, group{label: ns, class: "ns", members: byNS[ns]})
	}
	if len(outside) > 0 {
		groups = append(groups, group{label: "outside the cluster", class: "outside", members: outside})
	}
	if len(nodes) > 0 {
		groups = append(groups, group{label: "nodes", class: "nodes", members: nodes})
	}
	layout(g, groups)
	for k, p := range edges {
		g.Edges = append(g.Edges, edge{From: p.from, To: p.to, D: curve(&g.Nodes[p.from], &g.Nodes[p.to]), Class: classes[k], Title: titles[k], Width: "1.4"})
	}
	return g
}

// namespaceGraph draws one node per namespace (and one for the outside
// world), one edge per pair of namespaces with allowed connections, wider
// for more connections.
func namespaceGraph(names []string, size map[string]int, count [][]int, external map[[2]string]int) *graph {
	g := &graph{PerNamespace: true}
	var members []int
	for _, ns := range names {
		g.Nodes = append(g.Nodes, node{Index: len(g.Nodes), Label: shorten(fmt.Sprintf("%s (%d)", ns, size[ns])), Title: fmt.Sprintf("namespace %s: %d pods and workloads", ns, size[ns]), Class: "pod"})
		members = append(members, len(g.Nodes)-1)
	}
	groups := []group{{label: "namespaces", class: "ns", members: members}}
	inet := -1
	if len(external) > 0 {
		inet = len(g.Nodes)
		g.Nodes = append(g.Nodes, node{Index: inet, Label: "outside the cluster", Title: "addresses outside the cluster", Class: "external"})
		groups = append(groups, group{label: "outside the cluster", class: "outside", members: []int{inet}})
	}
	layout(g, groups)
	width := func(n int) string { return fmt.Sprintf("%.1f", 0.8+math.Log2(float64(n)+1)/2) }
	for i := range names {
		for j := range names {
			if i == j || count[i][j] == 0 {
				continue
			}
			g.Edges = append(g.Edges, edge{From: i, To: j, D: curve(&g.Nodes[i], &g.Nodes[j]), Class: "some", Width: width(count[i][j]),
				Title: fmt.Sprintf("%s → %s: %d connections", names[i], names[j], count[i][j])})
		}
	}
	for i, ns := range names {
		if n := external[[2]string{"in", ns}]; n > 0 {
			g.Edges = append(g.Edges, edge{From: inet, To: i, D: curve(&g.Nodes[inet], &g.Nodes[i]), Class: "some", Width: width(n),
				Title: fmt.Sprintf("outside the cluster → %s: %d connections", ns, n)})
		}
		if n := external[[2]string{"out", ns}]; n > 0 {
			g.Edges = append(g.Edges, edge{From: i, To: inet, D: curve(&g.Nodes[i], &g.Nodes[inet]), Class: "some", Width: width(n),
				Title: fmt.Sprintf("%s → outside the cluster: %d connections", ns, n)})
		}
	}
	return g
}

// curve returns an SVG path from the border of a to the border of b,
// bent to the right of the direction of travel so that the two
// directions of a pair stay apart.
func curve(a, b *node) string {
	ax, ay := float64(a.X+a.W/2), float64(a.Y+a.H/2)
	bx, by := float64(b.X+b.W/2), float64(b.Y+b.H/2)
	dx, dy := bx-ax, by-ay
	d := math.Hypot(dx, dy)
	if d == 0 {
		return ""
	}
	// Control point: the midpoint moved sideways by a share of the length.
	bend := math.Min(40, 0.15*d)
	cx, cy := (ax+bx)/2-dy/d*bend, (ay+by)/2+dx/d*bend
	sx, sy := clip(a, cx, cy)
	ex, ey := clip(b, cx, cy)
	var s strings.Builder
	fmt.Fprintf(&s, "M%.1f %.1fQ%.1f %.1f %.1f %.1f", sx, sy, cx, cy, ex, ey)
	return s.String()
}

// clip returns where the segment from n's centre toward (x, y) leaves n's
// rectangle (plus a small margin for the arrow head).
func clip(n *node, x, y float64) (float64, float64) {
	cx, cy := float64(n.X+n.W/2), float64(n.Y+n.H/2)
	dx, dy := x-cx, y-cy
	hw, hh := float64(n.W)/2+3, float64(n.H)/2+3
	if dx == 0 && dy == 0 {
		return cx, cy
	}
	t := math.Inf(1)
	if dx != 0 {
		t = math.Min(t, hw/math.Abs(dx))
	}
	if dy != 0 {
		t = math.Min(t, hh/math.Abs(dy))
	}
	t = math.Min(t, 1)
	return cx + dx*t, cy + dy*t
}
