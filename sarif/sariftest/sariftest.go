// Package sariftest validates SARIF documents against the official SARIF
// 2.1.0 JSON schema (testdata/sarif-schema-2.1.0.json, embedded). It is
// imported only from tests.
package sariftest

import (
	"bytes"
	_ "embed"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/sarif-schema-2.1.0.json
var schemaJSON []byte

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("sarif-schema-2.1.0.json")
})

// Validate reports whether data is a valid SARIF 2.1.0 document: nil, or
// the schema violations. Formats (uri, date-time, ...) are asserted, not
// only annotated. It fails tb if data is not JSON or the schema does not
// compile.
func Validate(tb testing.TB, data []byte) error {
	tb.Helper()
	sch, err := compiled()
	if err != nil {
		tb.Fatalf("SARIF schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("not JSON: %v", err)
	}
	return sch.Validate(inst)
}
