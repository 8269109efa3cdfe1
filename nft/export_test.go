package nft

import (
	"fmt"
	"reflect"
)

// CheckIndexes reports whether the indexes s keeps up to date match those
// NewState builds from its ruleset, for the tests of State.Update.
func (s *State) CheckIndexes() error {
	fresh, err := NewState(s.rs)
	if err != nil {
		return fmt.Errorf("the state's ruleset is invalid: %w", err)
	}
	for name, i := range s.chains {
		if s.rs.Chains[i].Name != name {
			return fmt.Errorf("chain index: %q at %d holds %q", name, i, s.rs.Chains[i].Name)
		}
	}
	for name, i := range s.sets {
		if s.rs.Sets[i].Name != name {
			return fmt.Errorf("set index: %q at %d holds %q", name, i, s.rs.Sets[i].Name)
		}
	}
	for name, i := range s.maps {
		if s.rs.Maps[i].Name != name {
			return fmt.Errorf("map index: %q at %d holds %q", name, i, s.rs.Maps[i].Name)
		}
	}
	if len(s.chains) != len(s.rs.Chains) || len(s.sets) != len(s.rs.Sets) || len(s.maps) != len(s.rs.Maps) {
		return fmt.Errorf("indexes hold %d chains, %d sets, %d maps; the ruleset %d, %d, %d",
			len(s.chains), len(s.sets), len(s.maps), len(s.rs.Chains), len(s.rs.Sets), len(s.rs.Maps))
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"set references", s.setRefs, fresh.setRefs},
		{"chain references", s.chainRefs, fresh.chainRefs},
		{"jumps", s.jumps, fresh.jumps},
		{"verdict map lookups", s.vmaps, fresh.vmaps},
		{"map targets", nonEmpty(s.targets), nonEmpty(fresh.targets)},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			return fmt.Errorf("%s: kept %v, built %v", c.name, c.got, c.want)
		}
	}
	return nil
}

func nonEmpty(m map[string]map[string]int) map[string]map[string]int {
	out := map[string]map[string]int{}
	for k, v := range m {
		if len(v) > 0 {
			out[k] = v
		}
	}
	return out
}
