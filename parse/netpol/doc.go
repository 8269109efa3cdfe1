// Package netpol converts networking.k8s.io/v1 NetworkPolicy objects into
// bulkhead's tiered rule IR (model.Policy), validating them as the API
// server does (ValidateNetworkPolicy in kubernetes/pkg/apis/networking/
// validation) and reporting every problem with its exact field path.
//
// It never reads files, never talks to a cluster and never decides what a
// policy allows: that is package eval's job.
package netpol
