package anp

import (
	"github.com/bulkhead/bulkhead/model"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
	"sigs.k8s.io/network-policy-api/apis/v1alpha2"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// The converters below are the contract between the manifest loader and
// this package. Each returns the policy in bulkhead's IR, or nil when the
// object is invalid, with every problem found.

// FromAdminNetworkPolicy converts a policy.networking.k8s.io/v1alpha1
// AdminNetworkPolicy.
func FromAdminNetworkPolicy(p *v1alpha1.AdminNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	return nil, notYet(src)
}

// FromBaselineAdminNetworkPolicy converts a v1alpha1
// BaselineAdminNetworkPolicy.
func FromBaselineAdminNetworkPolicy(p *v1alpha1.BaselineAdminNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	return nil, notYet(src)
}

// FromClusterNetworkPolicyV1alpha2 converts a v1alpha2 ClusterNetworkPolicy.
func FromClusterNetworkPolicyV1alpha2(p *v1alpha2.ClusterNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	return nil, notYet(src)
}

// FromClusterNetworkPolicyV1beta1 converts a v1beta1 ClusterNetworkPolicy.
func FromClusterNetworkPolicyV1beta1(p *v1beta1.ClusterNetworkPolicy, src model.Source) (*model.Policy, []model.Problem) {
	return nil, notYet(src)
}

func notYet(src model.Source) []model.Problem {
	return []model.Problem{{Source: src, Severity: model.SeverityError, Msg: "cluster policy tiers are not supported yet"}}
}
