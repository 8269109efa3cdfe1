// Package model holds bulkhead's value types: endpoints, namespaces, nodes,
// the one tiered rule IR that every policy kind compiles into, and the set
// types the engine computes with (port sets, connection sets, IP sets).
//
// The model is what the rest of bulkhead agrees on. Parsers produce it from
// Kubernetes objects; the engine, the renderers, the audit and the nftables
// compiler consume it. It never imports client-go, never reads files and
// never touches the kernel.
package model
