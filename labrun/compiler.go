package labrun

import (
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
)

// Compiler returns the ruleset the node agent applies on a node whose
// pods are local, as judged by engine e. Enforce calls it once per node of
// the lab; a nil Compiler stands for a cluster without the agent (no
// rules at all), which shows what the network does unenforced.
type Compiler func(e *eval.Engine, local []*model.Endpoint) (*nft.Ruleset, error)
