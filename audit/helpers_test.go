package audit_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// unmodelledKinds are the kinds the audit reads as unstructured objects.
var unmodelledKinds = map[string]bool{
	"Service": true, "ServiceAccount": true, "ConfigMap": true, "RoleBinding": true,
	"ClusterRoleBinding": true, "PeerAuthentication": true,
}

var clusterScoped = map[string]bool{"ClusterRoleBinding": true}

// load models manifests as the CLI does: typed objects through
// parse/manifest, the unmodelled kinds the audit reads as unstructured
// objects.
func load(t testing.TB, name string, data []byte) audit.Input {
	t.Helper()
	res := manifest.LoadBytes(name, data, manifest.Options{})
	if errs := res.Snapshot.Errors(); len(errs) > 0 {
		t.Fatalf("%s: invalid input: %v", name, errs[0].Error())
	}
	in := audit.Input{Snapshot: res.Snapshot}
	for _, o := range res.Objects {
		in.Objects = append(in.Objects, audit.Object{Source: o.Source, Obj: o.Obj})
	}
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil || m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if !unmodelledKinds[u.GetKind()] {
			continue
		}
		ns := u.GetNamespace()
		if ns == "" && !clusterScoped[u.GetKind()] {
			ns = "default"
		}
		in.Objects = append(in.Objects, audit.Object{Source: model.Source{File: name, Kind: u.GetKind(), Namespace: ns, Name: u.GetName()}, Obj: u})
	}
	return in
}

// testNow is the date suppressions expire against in tests.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// describe formats findings one per line: "subject [container]: msg".
func describe(fs []audit.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Subject.String())
		if f.Container != "" {
			b.WriteString(" [" + f.Container + "]")
		}
		b.WriteString(": " + f.Msg + "\n")
	}
	return b.String()
}
