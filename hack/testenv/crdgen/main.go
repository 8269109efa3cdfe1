// Command crdgen writes CustomResourceDefinitions for the network-policy-api
// kinds that bulkhead reads (AdminNetworkPolicy and BaselineAdminNetworkPolicy
// v1alpha1, ClusterNetworkPolicy v1alpha2 and v1beta1), generated with
// controller-tools from the Go types of sigs.k8s.io/network-policy-api as pinned
// by this module's go.mod.
//
// network-policy-api v0.3.0 ships CRD YAML only for ClusterNetworkPolicy; the
// v1alpha1 kinds lost theirs when they were deprecated, yet their Go types (and
// bulkhead's parsers) remain. Generating every CRD the same way keeps them
// consistent: the ClusterNetworkPolicy output is checked against the shipped
// experimental-channel YAML by hack/testenv/crds/generate.sh.
//
// The output is the experimental channel: every field of the Go types is in the
// schema, so a test cluster accepts whatever bulkhead can parse. Descriptions
// keep the upstream "<network-policy-api:experimental>" markers, as the shipped
// experimental YAML does.
//
// One deliberate change from the Go types: in v1alpha1, the CIDR rule
// "isCIDR(self) && cidr(self) == cidr(self).masked()" becomes "isCIDR(self)".
// With up to 100 rules of 100 peers of 25 networks each, the full rule exceeds
// the apiserver's CEL cost budget (by 1.475x on Kubernetes 1.37) and the CRD is
// rejected; network-policy-api PR #324, which added the masked() check, hit the
// same error. The test cluster thus accepts an address-like CIDR such as
// 10.0.0.5/24 in an AdminNetworkPolicy or BaselineAdminNetworkPolicy, which the
// types' documentation forbids; bulkhead's parser must reject it itself.
// ClusterNetworkPolicy keeps the full rule: its lists are shorter.
//
// Usage (from this directory): go run . -out ../crds
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-tools/pkg/crd"
	"sigs.k8s.io/controller-tools/pkg/loader"
	"sigs.k8s.io/controller-tools/pkg/markers"
	"sigs.k8s.io/network-policy-api/pkg/consts"
	"sigs.k8s.io/yaml"
)

// apiPackages are the API versions to generate. Every kind found in them gets
// one CRD holding all of its versions.
var apiPackages = []string{
	"sigs.k8s.io/network-policy-api/apis/v1alpha1",
	"sigs.k8s.io/network-policy-api/apis/v1alpha2",
	"sigs.k8s.io/network-policy-api/apis/v1beta1",
}

func main() {
	out := flag.String("out", "", "directory to write <group>_<plural>.yaml files into")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "crdgen: -out is required")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "crdgen:", err)
		os.Exit(1)
	}
}

func run(outDir string) error {
	// The schema package is loaded as a root so that the parser can read the
	// generated register functions (SchemeGroupVersion) of the API packages.
	roots, err := loader.LoadRoots(append([]string{"k8s.io/apimachinery/pkg/runtime/schema"}, apiPackages...)...)
	if err != nil {
		return fmt.Errorf("load packages: %w", err)
	}
	for _, r := range roots {
		if len(r.Errors) > 0 {
			return fmt.Errorf("load %s: %v", r.PkgPath, r.Errors)
		}
	}

	var gen crd.Generator
	parser := &crd.Parser{
		Collector: &markers.Collector{Registry: &markers.Registry{}},
		Checker:   &loader.TypeChecker{NodeFilters: []loader.NodeFilter{gen.CheckFilter()}},
	}
	if err := gen.RegisterMarkers(parser.Collector.Registry); err != nil {
		return fmt.Errorf("register markers: %w", err)
	}
	crd.AddKnownTypes(parser)
	for _, r := range roots {
		parser.NeedPackage(r)
	}
	metav1 := crd.FindMetav1(roots)
	if metav1 == nil {
		return fmt.Errorf("no API package imports metav1")
	}
	kinds := crd.FindKubeKinds(parser, metav1)
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].String() < kinds[j].String() })
	if len(kinds) == 0 {
		return fmt.Errorf("no kinds found in %v", apiPackages)
	}

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for _, gk := range kinds {
		name, data, err := generate(parser, gk)
		if err != nil {
			return fmt.Errorf("%s: %w", gk, err)
		}
		if err := os.WriteFile(filepath.Join(outDir, name), data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "crdgen: wrote %s\n", filepath.Join(outDir, name))
	}
	return nil
}

// generate returns the file name and YAML of the CRD for one kind.
func generate(parser *crd.Parser, gk schema.GroupKind) (string, []byte, error) {
	parser.NeedCRDFor(gk, nil)
	c, ok := parser.CustomResourceDefinitions[gk]
	if !ok {
		return "", nil, fmt.Errorf("no CRD generated")
	}
	c = *c.DeepCopy()

	// Groups under k8s.io must carry an API-approval annotation, or the
	// apiserver rejects the CRD. These are the values the upstream bundle uses.
	c.Annotations = map[string]string{
		apiext.KubeAPIApprovedAnnotation: consts.ApprovalLink,
		consts.BundleVersionAnnotation:   consts.BundleVersion,
		consts.ChannelAnnotation:         "experimental",
	}
	crd.FixTopLevelMetadata(c)
	if gk.Kind == "AdminNetworkPolicy" || gk.Kind == "BaselineAdminNetworkPolicy" {
		n := 0
		for i := range c.Spec.Versions {
			if s := c.Spec.Versions[i].Schema; s != nil && s.OpenAPIV3Schema != nil {
				crd.EditSchema(s.OpenAPIV3Schema, &relaxCIDR{n: &n})
			}
		}
		if n == 0 {
			return "", nil, fmt.Errorf("CIDR rule %q not found; review the CEL cost workaround", fullCIDRRule)
		}
	}

	v1, err := crd.AsVersion(c, apiext.SchemeGroupVersion)
	if err != nil {
		return "", nil, err
	}
	// Round-trip through a map to drop the empty status and the null
	// creationTimestamp, which are not part of a manifest.
	raw, err := yaml.Marshal(v1)
	if err != nil {
		return "", nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return "", nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	raw, err = yaml.Marshal(m)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("%s_%s.yaml", c.Spec.Group, c.Spec.Names.Plural), raw, nil
}

// The v1alpha1 CIDR validation rule and its cheaper replacement (see the
// package comment).
const (
	fullCIDRRule    = "isCIDR(self) && cidr(self) == cidr(self).masked()"
	relaxedCIDRRule = "isCIDR(self)"
)

// relaxCIDR replaces fullCIDRRule with relaxedCIDRRule everywhere in a schema
// and counts the replacements in n.
type relaxCIDR struct{ n *int }

func (v *relaxCIDR) Visit(s *apiext.JSONSchemaProps) crd.SchemaVisitor {
	if s == nil {
		return v
	}
	for i := range s.XValidations {
		if s.XValidations[i].Rule == fullCIDRRule {
			s.XValidations[i].Rule = relaxedCIDRRule
			*v.n++
		}
	}
	return v
}
