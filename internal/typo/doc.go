// Package typo finds likely typos for "did you mean" hints: the edit
// distance of two strings and the known name closest to an unknown one.
// It is pure: it never formats messages or decides what counts as
// unknown.
package typo
