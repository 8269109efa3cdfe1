package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulkhead/bulkhead/audit"
	"github.com/bulkhead/bulkhead/model"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// unmodelledKinds are the kinds the checks read that parse/manifest does
// not model, with whether they are namespaced. Secrets are deliberately
// absent: the audit never reads them.
var unmodelledKinds = map[string]bool{
	"Service":            true,
	"ServiceAccount":     true,
	"ConfigMap":          true,
	"RoleBinding":        true,
	"ClusterRoleBinding": false,
	"PeerAuthentication": true,
}

type skipKey struct{ file, kind, namespace, name string }

// unmodelled decodes again the objects of the kinds above that the loader
// skipped, from the files it read (stdin from the copy in stdinData), as
// unstructured objects with the loader's sources.
//
// This is a stopgap: parse/manifest keeps no unmodelled objects, so the
// audit reads those documents a second time. Problems (a file that
// changed, a document that no longer parses) are returned as warnings and
// the objects are left out.
func unmodelled(skipped []model.Source, stdinData []byte, defaultNS string) ([]audit.Object, []string) {
	want := map[skipKey]model.Source{}
	var files []string
	seenFile := map[string]bool{}
	for _, s := range skipped {
		if _, ok := unmodelledKinds[s.Kind]; !ok {
			continue
		}
		want[skipKey{s.File, s.Kind, s.Namespace, s.Name}] = s
		if !seenFile[s.File] {
			seenFile[s.File] = true
			files = append(files, s.File)
		}
	}
	var out []audit.Object
	var warnings []string
	for _, file := range files {
		data := stdinData
		if file != "-" {
			var err error
			if data, err = os.ReadFile(file); err != nil {
				warnings = append(warnings, fmt.Sprintf("%s: reading it again for the audit's Services, ServiceAccounts, ConfigMaps, RoleBindings and PeerAuthentications: %v", file, err))
				continue
			}
		}
		objs, err := decodeDocs(data)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: %v; the audit leaves its unmodelled objects out", file, err))
		}
		for _, u := range objs {
			k := skipKey{file, u.GetKind(), u.GetNamespace(), u.GetName()}
			src, ok := want[k]
			if !ok {
				continue
			}
			delete(want, k)
			if namespaced := unmodelledKinds[src.Kind]; namespaced && src.Namespace == "" {
				src.Namespace = defaultNS
				u.SetNamespace(defaultNS)
			}
			out = append(out, audit.Object{Source: src, Obj: u})
		}
	}
	return out, warnings
}

// decodeDocs decodes the YAML documents (or JSON values) of a file into
// unstructured objects, expanding lists, and keeps only the kinds above.
func decodeDocs(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	var errs []error
	add := func(v any) {
		collect(v, &out, &errs, 0)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var v any
			err := dec.Decode(&v)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if len(out) == 0 {
					break // not JSON after all: try YAML
				}
				return out, err
			}
			add(v)
		}
		if len(out) > 0 {
			return out, errors.Join(errs...)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, err)
			break
		}
		add(v)
	}
	return out, errors.Join(errs...)
}

func collect(v any, out *[]*unstructured.Unstructured, errs *[]error, depth int) {
	m, ok := v.(map[string]any)
	if !ok || depth > 10 {
		return
	}
	kind, _ := m["kind"].(string)
	if items, ok := m["items"].([]any); ok && strings.HasSuffix(kind, "List") {
		for _, it := range items {
			collect(it, out, errs, depth+1)
		}
		return
	}
	if _, ok := unmodelledKinds[kind]; !ok {
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %v", kind, err))
		return
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(b); err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %v", kind, err))
		return
	}
	*out = append(*out, u)
}
