// Package nfttest builds nft.Ruleset values for tests: a sample shaped like
// the compiler's output, and small random rulesets and packets for
// differential tests of the tracer against the kernel. It is imported only
// from tests and never touches the kernel.
package nfttest
