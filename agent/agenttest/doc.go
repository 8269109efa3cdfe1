// Package agenttest holds helpers for the agent's privileged tests and
// benchmarks: a private network namespace per test. It is imported only
// from tests.
package agenttest
