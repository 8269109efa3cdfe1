package kube

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// AccessError is a request the API server refused: RBAC denied it
// (Forbidden) or did not accept the credentials (Unauthorized).
type AccessError struct {
	// Verb, Resource (as RBAC names it: "pods", "deployments.apps") and
	// Namespace ("" for every namespace or a cluster-scoped resource) of
	// the refused request.
	Verb, Resource, Namespace string
	// Unauthorized is true when the credentials were refused, rather
	// than the permission.
	Unauthorized bool
	Cluster      string // Cluster.Name
	Err          error
}

func (e *AccessError) Error() string {
	if e.Unauthorized {
		return fmt.Sprintf("%s: the API server refused the credentials (401 Unauthorized): log in again or fix the user of the context: %v", e.Cluster, e.Err)
	}
	where := "in every namespace"
	if e.Namespace != "" {
		where = "in namespace " + e.Namespace
	}
	return fmt.Sprintf("%s: permission denied: cannot %s %s %s (RBAC needs verb %q on resource %q%s; bulkhead reads with get, list and watch on the resources of the ClusterRole in docs/live.md): %v",
		e.Cluster, e.Verb, e.Resource, where, e.Verb, e.Resource, clusterScope(e.Namespace), e.Err)
}

func clusterScope(ns string) string {
	if ns == "" {
		return " cluster-wide"
	}
	return ""
}

func (e *AccessError) Unwrap() error { return e.Err }

// UnreachableError is an API server that did not answer.
type UnreachableError struct {
	Cluster string
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s: cannot reach the API server: %v", e.Cluster, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// classify turns an error of a request (verb on resource in namespace)
// into an AccessError or UnreachableError when it is one, and otherwise
// wraps it with the request.
func classify(err error, cluster, verb, resource, namespace string) error {
	if err == nil {
		return nil
	}
	var ae *AccessError
	var ue *UnreachableError
	if errors.As(err, &ae) || errors.As(err, &ue) {
		return err
	}
	switch {
	case apierrors.IsForbidden(err):
		return &AccessError{Verb: verb, Resource: resource, Namespace: namespace, Cluster: cluster, Err: err}
	case apierrors.IsUnauthorized(err):
		return &AccessError{Verb: verb, Resource: resource, Namespace: namespace, Unauthorized: true, Cluster: cluster, Err: err}
	case isUnreachable(err):
		return &UnreachableError{Cluster: cluster, Err: err}
	}
	where := ""
	if namespace != "" {
		where = " in namespace " + namespace
	}
	return fmt.Errorf("%s: %s %s%s: %w", cluster, verb, resource, where, err)
}

// isUnreachable reports whether err is a transport failure: refused or
// timed-out connections, DNS and TLS errors.
func isUnreachable(err error) bool {
	var ue *url.Error
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ue) || errors.As(err, &ne) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "x509:") || strings.Contains(s, "no such host")
}

// IsAccessError reports whether err is or wraps an AccessError.
func IsAccessError(err error) bool {
	var ae *AccessError
	return errors.As(err, &ae)
}
