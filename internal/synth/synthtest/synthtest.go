// Package synthtest models synth's generated clusters for tests and
// benchmarks the way the CLI models manifests: through the manifest
// Builder. It is imported only from tests.
package synthtest

import (
	"testing"

	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
)

// Load generates the cluster cfg describes and models it through the
// manifest Builder, as the CLI does after decoding, every object from
// file "synth". It returns the snapshot and the objects, and fails tb if
// any object is invalid: a generated cluster must be.
func Load(tb testing.TB, cfg synth.Config) (*model.Snapshot, []manifest.Object) {
	tb.Helper()
	b := manifest.NewBuilder(manifest.Options{})
	for _, o := range synth.Generate(cfg).Objects() {
		b.Add(o, model.Source{File: "synth"})
	}
	snap := b.Snapshot()
	if errs := snap.Errors(); len(errs) > 0 {
		tb.Fatalf("generated cluster has %d invalid objects, first: %v", len(errs), errs[0].Error())
	}
	return snap, b.Objects()
}

// Snapshot is Load's snapshot.
func Snapshot(tb testing.TB, cfg synth.Config) *model.Snapshot {
	tb.Helper()
	snap, _ := Load(tb, cfg)
	return snap
}
