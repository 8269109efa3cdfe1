package sarif

// SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html).
// Field names follow the specification. Optional fields carry omitempty,
// so each writer shows only what it sets; the field order is the order
// of the JSON document.

// Schema is the $schema URI written in SARIF documents.
const Schema = "https://json.schemastore.org/sarif-2.1.0.json"

// Version is the SARIF version this package writes.
const Version = "2.1.0"

// Log is a SARIF log file (the schema's sarifLog).
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// NewLog returns a log of the given runs with the schema and version set.
func NewLog(runs ...Run) Log {
	return Log{Schema: Schema, Version: Version, Runs: runs}
}

// Run is one run of one tool. ColumnKind is empty when the tool reports
// no columns.
type Run struct {
	Tool       Tool     `json:"tool"`
	Results    []Result `json:"results"`
	ColumnKind string   `json:"columnKind,omitempty"`
}

// Tool describes the analysis tool.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver is the tool's main component (a toolComponent) and its rules.
type Driver struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	InformationURI string `json:"informationUri,omitempty"`
	Rules          []Rule `json:"rules"`
}

// Message is a plain text message with an optional Markdown form (the
// schema's message and multiformatMessageString).
type Message struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

// Rule is a reportingDescriptor: one check.
type Rule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     Message         `json:"shortDescription"`
	FullDescription      Message         `json:"fullDescription"`
	Help                 Message         `json:"help"`
	HelpURI              string          `json:"helpUri,omitempty"`
	DefaultConfiguration Configuration   `json:"defaultConfiguration"`
	Properties           *RuleProperties `json:"properties,omitempty"`
}

// Configuration is a rule's default reportingConfiguration.
type Configuration struct {
	Level string `json:"level"`
}

// RuleProperties is a rule's property bag. GitHub code scanning reads
// tags, "security-severity" (a CVSS-like score as a string) and
// "precision".
type RuleProperties struct {
	Tags             []string `json:"tags,omitempty"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Precision        string   `json:"precision,omitempty"`
}

// Result is one finding. BaselineState is "new", "unchanged",
// "updated" or "absent" when the run was compared with a baseline.
type Result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             Message           `json:"message"`
	Locations           []Location        `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []Suppression     `json:"suppressions,omitempty"`
	BaselineState       string            `json:"baselineState,omitempty"`
	Properties          map[string]string `json:"properties,omitempty"`
}

// Location is where a result is: a file region, the object it is about,
// or both.
type Location struct {
	PhysicalLocation *PhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []LogicalLocation `json:"logicalLocations,omitempty"`
}

// PhysicalLocation is a file and optionally a region of it.
type PhysicalLocation struct {
	ArtifactLocation ArtifactLocation `json:"artifactLocation"`
	Region           *Region          `json:"region,omitempty"`
}

// ArtifactLocation names a file by URI reference.
type ArtifactLocation struct {
	URI string `json:"uri"`
}

// Region is a part of a file; lines count from 1.
type Region struct {
	StartLine int `json:"startLine"`
}

// LogicalLocation is a named object a result is about: for bulkhead a
// Kubernetes resource.
type LogicalLocation struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// Suppression says that a result was dismissed: Kind "inSource" (an
// annotation next to the object) or "external" (a baseline file).
type Suppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status,omitempty"`
	Justification string `json:"justification,omitempty"`
}
