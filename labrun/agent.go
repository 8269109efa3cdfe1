package labrun

import (
	"github.com/bulkhead/bulkhead/eval"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/nft"
	"github.com/bulkhead/bulkhead/nft/compile"
)

// Agent is the node agent's compiler (compile.Node, default table): the
// rules the lab enforces unless told otherwise.
func Agent(e *eval.Engine, local []*model.Endpoint) (*nft.Ruleset, error) {
	return compile.Node(e, local, compile.Options{})
}
