package agent

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// maxListed bounds the pods one log record lists.
const maxListed = 20

// logChanges logs what an applied ruleset changed against the previous
// one: a summary record, then one record per policy chain added, removed
// or rewritten, with its direction, policies and pods, and one per chain
// that pods joined or left. Set and map element changes are counted, and
// listed per set at debug level.
func (a *Agent) logChanges(prev, next *compile.Result, u Update, conns int, took time.Duration) {
	log := a.log
	var old *nft.Ruleset
	oldInfo := map[string]compile.ChainInfo{}
	if prev != nil {
		old, oldInfo = prev.Ruleset, prev.Chains
	}
	var added, removed, rewritten []string
	var addedElems, removedElems int
	if old != nil && next.Base == old && next.Delta.Replace == nil {
		// The compiler's change from the previous ruleset: what it
		// touches, not the whole rulesets.
		added, removed, rewritten, addedElems, removedElems = deltaChanges(old, next.Delta, log)
	} else {
		oldChains, nextChains := chainsByName(old), chainsByName(next.Ruleset)
		for _, c := range next.Ruleset.Chains {
			if c.IsBase() {
				continue
			}
			switch o := oldChains[c.Name]; {
			case o == nil:
				added = append(added, c.Name)
			case !slices.EqualFunc(o.Rules, c.Rules, nft.Rule.Equal):
				rewritten = append(rewritten, c.Name)
			}
		}
		if old != nil {
			for _, c := range old.Chains {
				if !c.IsBase() && nextChains[c.Name] == nil {
					removed = append(removed, c.Name)
				}
			}
		}
		addedElems, removedElems = elementChanges(old, next.Ruleset, log)
	}
	// A chain's NAME_np tail is part of it.
	owner := func(name string, infos map[string]compile.ChainInfo) string {
		if _, ok := infos[name]; !ok {
			if main, ok := strings.CutSuffix(name, "_np"); ok {
				if _, ok := infos[main]; ok {
					return main
				}
			}
		}
		return name
	}
	owners := func(names []string, infos map[string]compile.ChainInfo, skip []string) []string {
		var out []string
		for _, n := range names {
			if o := owner(n, infos); !slices.Contains(out, o) && !slices.Contains(skip, o) {
				out = append(out, o)
			}
		}
		return out
	}
	added = owners(added, next.Chains, nil)
	removed = owners(removed, oldInfo, nil)
	rewritten = owners(rewritten, next.Chains, added)

	attrs := []any{"cause", u.Cause, "took", took.Round(10 * time.Microsecond),
		"local_pods", next.Stats.LocalPods, "chains", next.Stats.Chains, "rules", next.Stats.Rules,
		"elements", next.Stats.Elements(), "chains_added", len(added), "chains_removed", len(removed),
		"chains_rewritten", len(rewritten), "elements_added", addedElems, "elements_removed", removedElems}
	if conns >= 0 {
		attrs = append(attrs, "connections_changed", conns)
	}
	if prev == nil {
		log.Info("ruleset applied", attrs...)
	} else if len(added)+len(removed)+len(rewritten)+addedElems+removedElems == 0 {
		log.Debug("ruleset unchanged", attrs...)
	} else {
		log.Info("ruleset updated", attrs...)
	}
	for _, w := range next.Warnings {
		if prev == nil || !slices.Contains(prev.Warnings, w) {
			log.Warn("not enforced as the engine decides", "detail", w)
		}
	}
	if prev == nil && !log.Enabled(context.Background(), slog.LevelDebug) {
		return // the first ruleset: the summary is enough
	}
	chainAttrs := func(name string, info compile.ChainInfo) []any {
		return []any{"chain", name, "direction", info.Direction.String(), "policies", strings.Join(info.Policies, "; "),
			"pods", listed(info.Pods)}
	}
	for _, name := range added {
		log.Info("chain added", chainAttrs(name, next.Chains[name])...)
	}
	for _, name := range rewritten {
		log.Info("chain rewritten (its policies changed)", chainAttrs(name, next.Chains[name])...)
	}
	for _, name := range removed {
		log.Info("chain removed", chainAttrs(name, oldInfo[name])...)
	}
	// Pods that moved between existing chains.
	names := make([]string, 0, len(next.Chains))
	for name := range next.Chains {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		info := next.Chains[name]
		o, ok := oldInfo[name]
		if !ok {
			continue
		}
		joined, left := setDiff(o.Pods, info.Pods)
		if len(joined)+len(left) == 0 {
			continue
		}
		log.Info("pods changed chain", "chain", name, "direction", info.Direction.String(),
			"policies", strings.Join(info.Policies, "; "), "joined", listed(joined), "left", listed(left))
	}
}

// deltaChanges returns the policy chains d adds, removes and rewrites and
// the elements it adds and removes, logging them per set at debug level,
// as elementChanges does for whole rulesets. old is the ruleset d
// changes, for the sizes of the sets it deletes.
func deltaChanges(old *nft.Ruleset, d nft.Delta, log *slog.Logger) (added, removed, rewritten []string, addedElems, removedElems int) {
	for _, c := range d.AddChains {
		if !c.IsBase() {
			added = append(added, c.Name)
		}
	}
	for _, c := range d.ReplaceChains {
		if !c.IsBase() {
			rewritten = append(rewritten, c.Name)
		}
	}
	removed = append(removed, d.DelChains...)
	perSet := map[string][2]int{}
	var names []string
	count := func(name string, a, r int) {
		if _, ok := perSet[name]; !ok {
			names = append(names, name)
		}
		c := perSet[name]
		perSet[name] = [2]int{c[0] + a, c[1] + r}
		addedElems += a
		removedElems += r
	}
	for _, s := range d.AddSets {
		count(s.Name, len(s.Elems), 0)
	}
	for _, m := range d.AddMaps {
		count(m.Name, len(m.Elems), 0)
	}
	for _, s := range d.AddElems {
		count(s.Name, len(s.Elems), 0)
	}
	for _, s := range d.DelElems {
		count(s.Name, 0, len(s.Elems))
	}
	for _, m := range d.AddMapElems {
		count(m.Name, len(m.Elems), 0)
	}
	for _, m := range d.DelMapElems {
		count(m.Name, 0, len(m.Elems))
	}
	if len(d.DelSets)+len(d.DelMaps) > 0 {
		for _, s := range old.Sets {
			if slices.Contains(d.DelSets, s.Name) {
				count(s.Name, 0, len(s.Elems))
			}
		}
		for _, m := range old.Maps {
			if slices.Contains(d.DelMaps, m.Name) {
				count(m.Name, 0, len(m.Elems))
			}
		}
	}
	if log.Enabled(context.Background(), slog.LevelDebug) {
		for i, name := range names {
			if i == maxListed {
				log.Debug("set elements changed in more sets", "sets", len(names)-maxListed)
				break
			}
			log.Debug("set elements changed", "set", name, "added", perSet[name][0], "removed", perSet[name][1])
		}
	}
	return added, removed, rewritten, addedElems, removedElems
}

func chainsByName(rs *nft.Ruleset) map[string]*nft.Chain {
	out := map[string]*nft.Chain{}
	if rs != nil {
		for i := range rs.Chains {
			out[rs.Chains[i].Name] = &rs.Chains[i]
		}
	}
	return out
}

// elementChanges counts the elements added and removed between two
// rulesets, comparing only sets and maps whose element lists are not the
// very same (the compiler shares unchanged lists), and logs them per set
// at debug level.
func elementChanges(old, next *nft.Ruleset, log *slog.Logger) (added, removed int) {
	if old == nil {
		return 0, 0
	}
	debug := log.Enabled(context.Background(), slog.LevelDebug)
	logged := 0
	count := func(name string, o, n []nft.Elem) {
		if len(o) == len(n) && (len(o) == 0 || &o[0] == &n[0]) {
			return
		}
		a, r := mergeCount(o, n)
		added += a
		removed += r
		if debug && a+r > 0 {
			if logged++; logged <= maxListed {
				log.Debug("set elements changed", "set", name, "added", a, "removed", r)
			}
		}
	}
	defer func() {
		if logged > maxListed {
			log.Debug("set elements changed in more sets", "sets", logged-maxListed)
		}
	}()
	oldSets := make(map[string][]nft.Elem, len(old.Sets))
	for _, s := range old.Sets {
		oldSets[s.Name] = s.Elems
	}
	for _, s := range next.Sets {
		count(s.Name, oldSets[s.Name], s.Elems)
		delete(oldSets, s.Name)
	}
	for name, elems := range oldSets {
		count(name, elems, nil)
	}
	keys := func(m *nft.Map) []nft.Elem {
		if m == nil {
			return nil
		}
		out := make([]nft.Elem, len(m.Elems))
		for i, e := range m.Elems {
			out[i] = e.Key
		}
		return out
	}
	for _, m := range next.Maps {
		om := old.Map(m.Name)
		a, r := mergeCount(keys(om), keys(&m))
		if om != nil {
			// A key whose chain changed counts as removed and added.
			verdicts := make(map[nft.Elem]nft.Verdict, len(om.Elems))
			for _, e := range om.Elems {
				verdicts[e.Key] = e.Verdict
			}
			for _, e := range m.Elems {
				if v, ok := verdicts[e.Key]; ok && v != e.Verdict {
					a++
					r++
				}
			}
		}
		added += a
		removed += r
	}
	return added, removed
}

// mergeCount counts the elements only in n (added) and only in o
// (removed). The compiler writes both sorted, so a merge suffices; lists
// that are not sorted fall back to a map.
func mergeCount(o, n []nft.Elem) (added, removed int) {
	if !slices.IsSortedFunc(o, compareElems) || !slices.IsSortedFunc(n, compareElems) {
		in := map[nft.Elem]bool{}
		for _, e := range o {
			in[e] = true
		}
		for _, e := range n {
			if in[e] {
				delete(in, e)
			} else {
				added++
			}
		}
		return added, len(in)
	}
	i, j := 0, 0
	for i < len(o) || j < len(n) {
		c := 0
		switch {
		case i == len(o):
			c = 1
		case j == len(n):
			c = -1
		default:
			c = compareElems(o[i], n[j])
		}
		switch {
		case c < 0:
			removed++
			i++
		case c > 0:
			added++
			j++
		default:
			i++
			j++
		}
	}
	return added, removed
}

// compareElems orders elements as package nft sorts them.
func compareElems(a, b nft.Elem) int {
	return cmp.Or(
		a.Addr.From().Compare(b.Addr.From()), a.Addr.To().Compare(b.Addr.To()),
		a.Addr2.From().Compare(b.Addr2.From()), a.Addr2.To().Compare(b.Addr2.To()),
		cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Ports.First, b.Ports.First), cmp.Compare(a.Ports.Last, b.Ports.Last))
}

func setDiff(old, new []string) (joined, left []string) {
	for _, s := range new {
		if _, ok := slices.BinarySearch(old, s); !ok {
			joined = append(joined, s)
		}
	}
	for _, s := range old {
		if _, ok := slices.BinarySearch(new, s); !ok {
			left = append(left, s)
		}
	}
	return joined, left
}

// listed joins up to maxListed names, then says how many more.
func listed(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, " ")
	}
	return strings.Join(names[:maxListed], " ") + " … (" + strconv.Itoa(len(names)-maxListed) + " more)"
}
