// Package manifest loads Kubernetes manifests (YAML and JSON files,
// directories, standard input, lists) into a model.Snapshot, and holds the
// Builder that turns typed Kubernetes objects into the model, which the
// live-cluster source reuses.
//
// Every object keeps its source: the file and the line where its document
// or list item starts. Bad input never stops the load: syntax errors,
// wrong types, unknown fields, invalid and duplicate objects become
// problems naming the file, the object, the field and the most precise
// line known (that of the offending field where the decoder can tell,
// else that of the object), and the rest loads. Policies decode strictly,
// so that a misspelled field cannot silently widen what they select.
//
// YAML is read as kubectl reads it (sigs.k8s.io/yaml, YAML 1.1 scalars:
// unquoted yes, no, on and off are booleans). Documents decode
// concurrently. Block-style YAML, which kubectl and most tools write,
// goes through a small converter straight to JSON; everything else goes
// through yaml.v3. The two give the same JSON and lines, which
// FuzzFastYAML checks.
//
// The package never evaluates policies, never talks to a cluster and never
// writes anything.
package manifest
