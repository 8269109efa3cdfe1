// Package report writes one self-contained HTML page about a snapshot:
// the connectivity graph grouped by namespace (an SVG laid out here), the
// reachability matrix, the exposure of each workload, the lint findings
// and the results of connectivity tests, for people who would rather look
// than read.
//
// The page needs nothing but itself: its style sheet and its small script
// are inlined, the graph is inline SVG, and it references no URL, so it
// opens offline, from a CI artifact or an email attachment. Large clusters
// are shown per namespace (the graph's nodes and the matrix's rows become
// namespaces) so that the page stays readable and small.
//
// The package is pure: it computes with the engine and the results it is
// given, never reads files, never talks to a cluster, and writes only to
// the io.Writer it is given.
package report
