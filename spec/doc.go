// Package spec is bulkhead's connectivity test language: a versioned YAML
// schema (apiVersion bulkhead.dev/v1, kind ConnectivityTest) in which a
// team states its segmentation as expectations ("the storefront reaches
// catalog on 8080/TCP", "nothing in dev reaches prod"), a parser that
// reports every problem with file, line and field, the evaluation of a
// spec against the engine, and writers for people (text), machines
// (JSON) and CI systems (JUnit XML, TAP).
//
// docs/review.md is the schema reference. Every expectation ends in pass
// or fail with the explanation of the verdict: the pairs that break it
// (a bounded list) and the decision trace of one of them, or for a pass
// the trace of one pair that shows why it holds. An endpoint selector
// that matches nothing fails the expectations that use it, so that a
// renamed workload cannot turn a test into one that checks nothing.
//
// The package never reads files (the caller passes the spec's bytes and
// name), never talks to a cluster and never logs.
package spec
