package typo

import (
	"iter"
	"strings"
)

// Distance returns the Levenshtein distance of a and b: the fewest byte
// insertions, deletions and substitutions that turn one into the other.
// It counts bytes, not runes, which is exact for the ASCII names of
// fields and labels it is meant for.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest returns the name nearest to s, ignoring case, when it is at most
// maxDist edits away, and "" when none is. A name equal to s but for case
// (strings.EqualFold) is at distance 0. Of equally near names the
// smallest in byte order wins, so the answer does not depend on the order
// of names (a map's keys, say).
func Closest(s string, names iter.Seq[string], maxDist int) string {
	best, bestD := "", maxDist+1
	ls := strings.ToLower(s)
	for n := range names {
		d := 0
		if !strings.EqualFold(s, n) {
			d = Distance(ls, strings.ToLower(n))
		}
		if d < bestD || d == bestD && best != "" && n < best {
			best, bestD = n, d
		}
	}
	return best
}
