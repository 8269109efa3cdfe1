// Package manifest loads Kubernetes manifests (YAML and JSON files,
// directories, standard input, lists) into a model.Snapshot, and holds the
// Builder that turns typed Kubernetes objects into the model, which the
// live-cluster source reuses.
//
// Every object keeps its source: the file and the line where its document
// or list item starts. Bad input never stops the load: syntax errors,
// wrong types, unknown fields, invalid and duplicate objects become
// problems naming the file, the line, the object and the field, and the
// rest loads. Policies decode strictly, so that a misspelled field cannot
// silently widen what they select.
//
// The package never evaluates policies, never talks to a cluster and never
// writes anything.
package manifest
