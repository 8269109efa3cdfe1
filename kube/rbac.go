package kube

// ReaderClusterRole is the ClusterRole bulkhead needs to read a cluster
// and watch it: get, list and watch on every kind it models, in every
// namespace. docs/live.md shows it; bind it with a ClusterRoleBinding.
const ReaderClusterRole = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: bulkhead-reader
rules:
- apiGroups: [""]
  resources:
  - namespaces
  - nodes
  - pods
  - replicationcontrollers
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources:
  - deployments
  - statefulsets
  - daemonsets
  - replicasets
  verbs: [get, list, watch]
- apiGroups: [batch]
  resources:
  - jobs
  - cronjobs
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources:
  - networkpolicies
  verbs: [get, list, watch]
- apiGroups: [policy.networking.k8s.io]
  resources:
  - adminnetworkpolicies
  - baselineadminnetworkpolicies
  - clusternetworkpolicies
  verbs: [get, list, watch]
`
