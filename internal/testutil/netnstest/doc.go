// Package netnstest gives privileged tests and benchmarks private network
// namespaces: RequireRoot skips loudly without root, New creates a
// namespace that is deleted when the test ends, and In runs code inside
// one. Nothing a test does in such a namespace reaches the host's
// interfaces. It is imported only from tests, and only on Linux.
package netnstest
