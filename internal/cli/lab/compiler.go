package lab

import "github.com/bulkhead/bulkhead/labrun"

// compiler returns the rules the lab applies on each node and a note
// saying which they are.
func compiler(noRules bool) (labrun.Compiler, string) {
	if noRules {
		return nil, "no rules (--no-rules)"
	}
	return labrun.Agent, "the node agent's rules on every node"
}
