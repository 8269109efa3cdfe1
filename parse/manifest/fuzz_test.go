package manifest

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/txtar"
)

// FuzzLoad loads arbitrary bytes as a YAML file and as a JSON file. It
// must never panic, every problem must carry a severity, a message, the
// file and a line or an object, and every loaded object its file and
// line.
func FuzzLoad(f *testing.F) {
	archives, err := filepath.Glob(filepath.Join("testdata", "load", "*.txtar"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range archives {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if file.Name != "want" && file.Name != "args" {
				f.Add(file.Data)
			}
		}
	}
	f.Add(genManifests(f, "yaml", genObjects(2, 2)))
	f.Add(genManifests(f, "list-json", genObjects(1, 1)))

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"fuzz.yaml", "fuzz.json"} {
			r := LoadBytes(name, data, Options{Workers: 2})
			checkProblems(t, r.Snapshot)
			for _, o := range r.Objects {
				if o.Source.File != name || o.Source.Line <= 0 || o.Obj == nil {
					t.Errorf("object without file, line or value: %+v", o)
				}
			}
			for _, s := range r.Skipped {
				if s.Source.File != name || s.Reason == "" {
					t.Errorf("skip without file or reason: %+v", s)
				}
			}
		}
	})
}
