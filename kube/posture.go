package kube

import (
	"context"
	"slices"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// postureResources are the kinds the model leaves out that the posture
// audit reads (package audit's checks: exposed Services, service-account
// token use, RBAC bindings; ConfigMaps are configMapResource). They stay
// unstructured, as manifests' objects of these kinds do. Secrets are
// deliberately absent: bulkhead never reads them.
var postureResources = []*resource{
	{gvk: schema.GroupVersionKind{Version: "v1", Kind: "Service"}, plural: "services", namespaced: true},
	{gvk: schema.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"}, plural: "serviceaccounts", namespaced: true},
	{gvk: schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"}, plural: "rolebindings", namespaced: true},
	{gvk: schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}, plural: "clusterrolebindings"},
}

// istioSecurity is the group of Istio's PeerAuthentication, read in the
// first of these versions the server serves; a cluster without Istio
// serves none, and then the mesh checks have nothing to read.
const istioSecurity = "security.istio.io"

var peerAuthVersions = []string{"v1", "v1beta1"}

// configMapResource lists the ConfigMaps named name, in every namespace.
func configMapResource(name string) *resource {
	return &resource{gvk: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, plural: "configmaps", namespaced: true,
		fieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
}

// postureKinds returns postureResources, the ConfigMaps named configMaps
// and, where Istio is installed, PeerAuthentication.
func postureKinds(ctx context.Context, disc discovery.DiscoveryInterface, cluster string, configMaps []string) ([]*resource, error) {
	rs := slices.Clone(postureResources)
	for _, name := range configMaps {
		rs = append(rs, configMapResource(name))
	}
	for _, v := range peerAuthVersions {
		gv := schema.GroupVersion{Group: istioSecurity, Version: v}
		list, err := disc.ServerResourcesForGroupVersion(gv.String())
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, classify(err, cluster, "discover", gv.String(), "")
		}
		if slices.ContainsFunc(list.APIResources, func(a metav1.APIResource) bool { return a.Name == "peerauthentications" }) {
			rs = append(rs, &resource{gvk: gv.WithKind("PeerAuthentication"), plural: "peerauthentications", namespaced: true})
			break
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return rs, nil
}

// postureKindNS maps the kinds Options.Posture reads to whether they are
// namespaced.
var postureKindNS = func() map[string]bool {
	m := map[string]bool{"PeerAuthentication": true, "ConfigMap": true}
	for _, r := range postureResources {
		m[r.gvk.Kind] = r.namespaced
	}
	return m
}()

// PostureKind reports whether kind is one of the kinds Options.Posture
// reads (the model leaves them out, the posture audit reads them, from
// manifests too), and whether it is namespaced.
func PostureKind(kind string) (ok, namespaced bool) {
	namespaced, ok = postureKindNS[kind]
	return ok, namespaced
}

// unstructuredOf turns a listed posture object into the shape manifests'
// unmodelled objects have.
func unstructuredOf(o Object) (manifest.Unstructured, bool) {
	u, ok := o.Obj.(*unstructured.Unstructured)
	if !ok {
		return manifest.Unstructured{}, false
	}
	return manifest.Unstructured{Source: model.Source{Kind: o.Source.Kind, Namespace: o.Source.Namespace, Name: o.Source.Name}, Obj: u}, true
}
