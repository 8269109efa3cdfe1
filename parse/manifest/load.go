package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"os"
	"path/filepath"
	"strings"

	"github.com/bulkhead/bulkhead/internal/parallel"
	"github.com/bulkhead/bulkhead/model"
)

// Result is what Load read.
type Result struct {
	// Snapshot is the model of every valid object, with every problem
	// found in Snapshot.Problems.
	Snapshot *model.Snapshot
	// Objects are the typed objects of the modelled kinds, with their
	// sources, in input order (see Builder.Objects).
	Objects []Object
	// Skipped lists the objects left out of the model and why.
	Skipped []Skip
	// Unstructured are the objects of kinds bulkhead does not model
	// (Services, ServiceAccounts, RBAC bindings, Istio resources, ...),
	// decoded but not validated, for the posture audit. Secrets are never
	// kept.
	Unstructured []Unstructured
	// Files are the files read, in order; "-" is standard input.
	Files []string
}

// Unstructured is an object of a kind bulkhead does not model.
type Unstructured struct {
	Source model.Source
	Obj    *unstructured.Unstructured
}

type input struct {
	name string
	data []byte
}

// Load reads Kubernetes manifests and models them. Each path is a file, a
// directory, read recursively for *.yaml, *.yml and *.json files and
// skipping hidden files and directories, or "-" for stdin. A file holds
// YAML documents separated by "---", or JSON values one after another;
// any document may be a List (kind List, or a typed list such as PodList)
// whose items, and nested lists, are loaded too.
//
// Load returns an error only when a path cannot be read; it reads nothing
// then. Everything wrong inside the files (syntax, types, unknown fields,
// invalid objects, duplicates) is a problem in Result.Snapshot.Problems
// naming the file, the line, the object and the field, and Load goes on
// with the rest. Documents decode concurrently, on Options.Workers
// goroutines; the result does not depend on their number.
func Load(paths []string, stdin io.Reader, opts Options) (*Result, error) {
	inputs, problems, err := readPaths(paths, stdin)
	if err != nil {
		return nil, err
	}
	r := load(inputs, opts, problems)
	return r, nil
}

// LoadBytes models the manifests in data as if read from a file called
// name.
func LoadBytes(name string, data []byte, opts Options) *Result {
	return load([]input{{name, data}}, opts, nil)
}

func readPaths(paths []string, stdin io.Reader) ([]input, []model.Problem, error) {
	var inputs []input
	var problems []model.Problem
	var errs []error
	stdinRead := false
	for _, p := range paths {
		if p == "-" {
			if stdinRead {
				errs = append(errs, errors.New(`"-" (standard input) given more than once`))
				continue
			}
			stdinRead = true
			if stdin == nil {
				errs = append(errs, errors.New(`"-": no standard input`))
				continue
			}
			data, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading standard input: %w", err))
				continue
			}
			inputs = append(inputs, input{"-", data})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			inputs = append(inputs, input{p, data})
			continue
		}
		n := len(inputs)
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			hidden := path != p && strings.HasPrefix(d.Name(), ".")
			if d.IsDir() {
				if hidden {
					return filepath.SkipDir
				}
				return nil
			}
			if hidden || !manifestExt(path) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			inputs = append(inputs, input{path, data})
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(inputs) == n {
			problems = append(problems, model.Problem{Source: model.Source{File: p}, Severity: model.SeverityWarning,
				Msg: "no manifests (*.yaml, *.yml, *.json) in this directory"})
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return inputs, problems, nil
}

func manifestExt(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// load splits the inputs into units, decodes the units concurrently and
// feeds the results to a Builder in input order.
func load(inputs []input, opts Options, problems []model.Problem) *Result {
	var units []unit
	var files []string
	for _, in := range inputs {
		files = append(files, in.name)
		if isJSON(in.data) && (strings.EqualFold(filepath.Ext(in.name), ".json") || !yamlExt(in.name) || validJSON(in.data)) {
			units = append(units, splitJSON(in.name, in.data)...)
		} else {
			units = append(units, splitYAML(in.name, in.data)...)
		}
	}

	type result struct {
		out       []decoded
		syntaxErr bool
	}
	results := make([]result, len(units))
	parallel.For(opts.workers(), len(units), func(i int) {
		results[i].out, results[i].syntaxErr = decodeUnit(&units[i], opts.defaultNamespace())
	})

	// A list split by text whose items do not all parse alone is decoded
	// whole instead.
	failed := map[*unit]bool{}
	for i := range units {
		if units[i].whole != nil && results[i].syntaxErr {
			failed[units[i].whole] = true
		}
	}

	b := NewBuilder(opts)
	b.AddProblem(problems...)
	var unstr []Unstructured
	done := map[*unit]bool{}
	feed := func(out []decoded) {
		for _, d := range out {
			if len(d.problems) > 0 {
				b.AddProblem(d.problems...)
			}
			switch {
			case d.obj != nil:
				b.Add(d.obj, d.src)
			case d.skip != "":
				b.AddSkipped(d.src, d.skip)
				if d.raw != nil {
					u := &unstructured.Unstructured{}
					if err := u.UnmarshalJSON(d.raw); err == nil {
						unstr = append(unstr, Unstructured{Source: d.src, Obj: u})
					}
				}
			}
		}
	}
	for i := range units {
		if w := units[i].whole; w != nil && failed[w] {
			if !done[w] {
				done[w] = true
				out, _ := decodeUnit(w, opts.defaultNamespace())
				feed(out)
			}
			continue
		}
		feed(results[i].out)
	}
	snap := b.Snapshot()
	return &Result{Snapshot: snap, Objects: b.Objects(), Skipped: b.Skipped(), Unstructured: unstr, Files: files}
}

func yamlExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

func validJSON(data []byte) bool { return json.Valid(data) }
