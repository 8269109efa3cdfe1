package audit

import (
	"fmt"
	"strings"

	"github.com/bulkhead/bulkhead/model"
)

// Severity grades a check and its findings. The zero value is unknown.
type Severity uint8

const (
	SeverityUnknown Severity = iota
	Info
	Low
	Medium
	High
	Critical
)

// Severities lists the severities from the most to the least severe, the
// order reports are grouped in.
var Severities = [...]Severity{Critical, High, Medium, Low, Info}

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// ParseSeverity parses "critical", "high", "medium", "low" or "info", in
// any case.
func ParseSeverity(s string) (Severity, error) {
	for _, sev := range Severities {
		if strings.EqualFold(s, sev.String()) {
			return sev, nil
		}
	}
	return SeverityUnknown, fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", s)
}

// Weight is what one failing check of this severity costs a namespace's
// score (see Score).
func (s Severity) Weight() int {
	switch s {
	case Critical:
		return 40
	case High:
		return 20
	case Medium:
		return 10
	case Low:
		return 4
	}
	return 0
}

// Category groups the checks.
type Category string

const (
	Segmentation Category = "segmentation"
	Workloads    Category = "workloads"
	Images       Category = "images"
	Platform     Category = "platform"
	Mesh         Category = "service mesh"
)

// Categories lists the categories in catalogue order.
var Categories = []Category{Segmentation, Workloads, Images, Platform, Mesh}

// Equivalents are the IDs other tools and benchmarks give the same (or a
// closely related) check. An empty field means there is none, or none we
// could confirm.
type Equivalents struct {
	Kubescape string // control ID, e.g. "C-0057"
	Trivy     string // check ID, e.g. "KSV017"
	Polaris   string // check name, e.g. "runAsPrivileged"
	KubeScore string // check name, e.g. "container-security-context-privileged"
	CIS       string // CIS Kubernetes Benchmark section (v1.23+ numbering)
}

// Check is one audit check. Checks are plain values: Checks returns them
// all, and each lives in its own file with its tests.
type Check struct {
	// ID is stable forever: suppressions and baselines refer to it.
	ID       string
	Category Category
	Severity Severity
	Title    string
	// Rationale says why the weakness matters: what an attacker does
	// with it. It may cite sources.
	Rationale string
	// Remediation says how to fix it.
	Remediation string
	Equivalents Equivalents
	// References are URLs backing the rationale.
	References []string
	// Run reports the check's findings on the context. It sets ID-specific
	// fields (Subject, Msg, Key, Source, Field, Container); Run fills in
	// the rest.
	Run func(*Context) []Finding
}

// Subject is the object a finding is about: a workload, pod, namespace,
// service, node or policy, or the cluster itself (all fields empty).
type Subject struct {
	Kind      string
	Namespace string
	Name      string
}

// String formats the subject as bulkhead names endpoints:
// "shop/web[Deployment]", "shop[Namespace]", "cluster".
func (s Subject) String() string {
	switch {
	case s.Kind == "" && s.Name == "":
		return "cluster"
	case s.Namespace != "":
		return s.Namespace + "/" + s.Name + "[" + s.Kind + "]"
	}
	return s.Name + "[" + s.Kind + "]"
}

// NamespaceOf returns the namespace a finding counts towards in scores:
// the subject's namespace, or the subject itself for a Namespace.
func (s Subject) NamespaceOf() string {
	if s.Kind == "Namespace" {
		return s.Name
	}
	return s.Namespace
}

// Finding is one weakness of one subject.
type Finding struct {
	// ID is the check's ID.
	ID       string
	Severity Severity
	Subject  Subject
	// Container names the container the finding is about, if any.
	Container string
	// Msg says what is wrong, precisely, for people. It names secrets and
	// variables, never their values.
	Msg string
	// Key tells apart the findings of one check on one subject (a
	// capability, an image, a source namespace). It is part of the
	// fingerprint, so it must not depend on file positions or wording.
	Key string
	// Source is the object to change to fix the finding, with its file
	// and line; Field is the field path within it, if one field is at
	// fault.
	Source model.Source
	Field  string
	// Fingerprint identifies the finding across runs: a hash of ID,
	// subject, container and key (see Fingerprint).
	Fingerprint string
}

// Checks returns the catalogue, in ID order.
func Checks() []*Check { return registry }

// Lookup returns the check with the given ID, or nil.
func Lookup(id string) *Check {
	for _, c := range registry {
		if c.ID == id {
			return c
		}
	}
	return nil
}
