// Package livetest puts manifests and generated clusters into the test
// API server of internal/kubetest, status included, for the live-cluster
// tests and benchmarks of kube and of the commands.
//
// It is test support: it fails the test on any error and never talks to
// any API server but the test's.
package livetest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulkhead/bulkhead/internal/kubetest"
	"github.com/bulkhead/bulkhead/internal/synth"
	"github.com/bulkhead/bulkhead/parse/manifest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// plurals maps the kinds bulkhead models to their resources.
var plurals = map[string]string{
	"Namespace": "namespaces", "Node": "nodes", "Pod": "pods", "ReplicationController": "replicationcontrollers",
	"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "ReplicaSet": "replicasets",
	"Job": "jobs", "CronJob": "cronjobs", "NetworkPolicy": "networkpolicies",
	"AdminNetworkPolicy": "adminnetworkpolicies", "BaselineAdminNetworkPolicy": "baselineadminnetworkpolicies",
	"ClusterNetworkPolicy": "clusternetworkpolicies",
	"ClusterRole":          "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
	// The kinds the model leaves out that the posture audit reads
	// (ApplyUnstructured).
	"Service": "services", "ServiceAccount": "serviceaccounts", "ConfigMap": "configmaps",
	"RoleBinding": "rolebindings", "PeerAuthentication": "peerauthentications",
}

// Cleanup says what Apply deletes when the test ends.
type Cleanup uint8

const (
	// KeepNamespaces deletes every applied object but namespaces. With no
	// namespace controller a deleted namespace never goes away and its
	// name cannot be used again, so tests that reuse fixed names (the
	// examples) keep them; an empty namespace changes no analysis.
	KeepNamespaces Cleanup = iota
	// DeleteAll deletes namespaces too.
	DeleteAll
)

// Apply loads the manifests at paths as bulkhead does and applies every
// object to env (server-side apply, as the admin), then writes what the
// manifests say of pod status (podIPs, podIP, phase) and node status
// (addresses) through the status subresource, as kubelets would.
// Namespaces are applied too (their labels become the manifest's), but
// one that existed before (kube-system) is never deleted. The objects are
// deleted when the test ends, per cleanup.
//
// The API server gives every object its uid, and requires one in each
// ownerReference: owners are applied first, and references to an owner
// in the manifests get its uid. Apply returns the objects as applied,
// uids included, which is what `kubectl get -o yaml` would show (see
// WriteYAML).
func Apply(tb testing.TB, env *kubetest.Env, cleanup Cleanup, paths ...string) []manifest.Object {
	tb.Helper()
	res, err := manifest.Load(paths, nil, manifest.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if errs := res.Snapshot.Errors(); len(errs) > 0 {
		tb.Fatalf("livetest: invalid fixture: %v", errs[0].Error())
	}
	return ApplyObjects(tb, env, cleanup, res.Objects)
}

// ApplyObjects is Apply for objects already loaded.
func ApplyObjects(tb testing.TB, env *kubetest.Env, cleanup Cleanup, objs []manifest.Object) []manifest.Object {
	tb.Helper()
	ctx := context.Background()
	dyn := env.Dynamic(tb)
	cs := env.Clientset(tb)
	out := make([]manifest.Object, len(objs))
	uids := map[string]types.UID{} // "Kind ns/name" of owners
	ownerKey := func(kind, ns, name string) string { return kind + " " + ns + "/" + name }
	for pass := 0; pass < 2; pass++ {
		for i, o := range objs {
			acc, err := meta.Accessor(o.Obj)
			if err != nil {
				tb.Fatal(err)
			}
			// Objects with owners in the fixture go in the second pass.
			hasOwner := false
			for _, r := range acc.GetOwnerReferences() {
				if _, ok := ownerIn(objs, r.Kind, acc.GetNamespace(), r.Name); ok {
					hasOwner = true
				}
			}
			if hasOwner != (pass == 1) {
				continue
			}
			obj := o.Obj.DeepCopyObject()
			acc, _ = meta.Accessor(obj)
			refs := acc.GetOwnerReferences()
			for j, r := range refs {
				if uid, ok := uids[ownerKey(r.Kind, acc.GetNamespace(), r.Name)]; ok {
					refs[j].UID = uid
				}
			}
			acc.SetOwnerReferences(refs)
			u, gvr, err := toUnstructured(obj)
			if err != nil {
				tb.Fatalf("livetest: %s: %v", o.Source, err)
			}
			ri := resourceFor(dyn, gvr, u.GetNamespace())
			existed := false
			if o.Source.Kind == "Namespace" {
				_, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
				existed = err == nil
			}
			delete(u.Object, "status")
			got, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: kubetest.FieldManager, Force: true})
			if err != nil {
				tb.Fatalf("livetest: apply %s: %v", o.Source, err)
			}
			if o.Source.Kind != "Namespace" || cleanup == DeleteAll && !existed {
				tb.Cleanup(func() { deleteNow(tb, ri, got.GetName()) })
			}
			uids[ownerKey(o.Source.Kind, acc.GetNamespace(), acc.GetName())] = got.GetUID()
			acc.SetUID(got.GetUID())
			out[i] = manifest.Object{Source: o.Source, Obj: obj}
			switch obj := o.Obj.(type) {
			case *corev1.Pod:
				if obj.Status.PodIP != "" || len(obj.Status.PodIPs) > 0 || obj.Status.Phase != "" {
					setPodStatus(tb, cs, obj)
				}
			case *corev1.Node:
				if len(obj.Status.Addresses) > 0 || len(obj.Status.Images) > 0 {
					n, err := cs.CoreV1().Nodes().Get(ctx, obj.Name, metav1.GetOptions{})
					if err != nil {
						tb.Fatal(err)
					}
					n.Status.Addresses, n.Status.Images = obj.Status.Addresses, obj.Status.Images
					if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
						tb.Fatalf("livetest: node %s status: %v", obj.Name, err)
					}
				}
			}
		}
	}
	return out
}

// ApplyUnstructured applies the objects of kinds the model leaves out
// that manifests carry (Services, ServiceAccounts, ConfigMaps, RBAC
// bindings, Istio PeerAuthentications: what the posture audit reads) as
// Apply does, and deletes them when the test ends. A kind it does not
// know fails the test rather than being left out, and so does a kind
// whose CRD the server lacks.
func ApplyUnstructured(tb testing.TB, env *kubetest.Env, objs []manifest.Unstructured) {
	tb.Helper()
	ctx := context.Background()
	dyn := env.Dynamic(tb)
	for _, o := range objs {
		u := o.Obj.DeepCopy()
		gvk := u.GroupVersionKind()
		plural, ok := plurals[gvk.Kind]
		if !ok {
			tb.Fatalf("livetest: %s: livetest does not know kind %s", o.Source, gvk.Kind)
		}
		if md, ok := u.Object["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		ri := resourceFor(dyn, gvk.GroupVersion().WithResource(plural), u.GetNamespace())
		got, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: kubetest.FieldManager, Force: true})
		if err != nil {
			tb.Fatalf("livetest: apply %s: %v", o.Source, err)
		}
		tb.Cleanup(func() { deleteNow(tb, ri, got.GetName()) })
	}
}

func ownerIn(objs []manifest.Object, kind, ns, name string) (manifest.Object, bool) {
	for _, o := range objs {
		if o.Source.Kind == kind && o.Source.Namespace == ns && o.Source.Name == name {
			return o, true
		}
	}
	return manifest.Object{}, false
}

// WriteYAML writes objects as one multi-document YAML file, as
// `kubectl get -o yaml` would give them.
func WriteYAML(tb testing.TB, path string, objs []manifest.Object) {
	tb.Helper()
	var b []byte
	for _, o := range objs {
		y, err := yaml.Marshal(o.Obj)
		if err != nil {
			tb.Fatal(err)
		}
		b = append(append(b, "---\n"...), y...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func setPodStatus(tb testing.TB, cs kubernetes.Interface, want *corev1.Pod) {
	tb.Helper()
	ctx := context.Background()
	pods := cs.CoreV1().Pods(want.Namespace)
	for attempt := 0; ; attempt++ {
		p, err := pods.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		p.Status.PodIP, p.Status.PodIPs, p.Status.Phase = want.Status.PodIP, want.Status.PodIPs, want.Status.Phase
		if p.Status.PodIP == "" && len(p.Status.PodIPs) > 0 {
			p.Status.PodIP = p.Status.PodIPs[0].IP
		}
		if len(p.Status.PodIPs) == 0 && p.Status.PodIP != "" {
			p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
		}
		if p.Status.Phase == "" {
			p.Status.Phase = corev1.PodRunning
		}
		_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) && attempt < 5 {
			continue
		}
		if err != nil {
			tb.Fatalf("livetest: pod %s/%s status: %v", want.Namespace, want.Name, err)
		}
		return
	}
}

func resourceFor(dyn dynamic.Interface, gvr schema.GroupVersionResource, ns string) dynamic.ResourceInterface {
	if ns != "" {
		return dyn.Resource(gvr).Namespace(ns)
	}
	return dyn.Resource(gvr)
}

func toUnstructured(obj k8sruntime.Object) (*unstructured.Unstructured, schema.GroupVersionResource, error) {
	m, err := k8sruntime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, schema.GroupVersionResource{}, err
	}
	u := &unstructured.Unstructured{Object: m}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	u.SetGroupVersionKind(gvk)
	plural, ok := plurals[gvk.Kind]
	if !ok {
		return nil, schema.GroupVersionResource{}, fmt.Errorf("livetest does not know kind %s", gvk.Kind)
	}
	return u, gvk.GroupVersion().WithResource(plural), nil
}

func deleteNow(tb testing.TB, ri dynamic.ResourceInterface, name string) {
	err := ri.Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	if err != nil && !apierrors.IsNotFound(err) {
		tb.Errorf("livetest: cleanup: delete %s: %v", name, err)
	}
}

// Workers is how many requests CreateCluster keeps in flight.
const Workers = 64

// CreateCluster creates a generated cluster in the API server the fast
// way: namespaces first, then pods, policies and cluster policies with
// plain Create calls on Workers goroutines, then every pod's status (its
// IP, phase Running). Nothing is deleted afterwards: it is for benchmarks
// with their own Env. It returns how long it took.
func CreateCluster(tb testing.TB, cfg *rest.Config, c *synth.Cluster) time.Duration {
	tb.Helper()
	start := time.Now()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side rate limit
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	jcfg := rest.CopyConfig(cfg)
	jcfg.ContentType = ""
	dyn, err := dynamic.NewForConfig(jcfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	run := func(n int, f func(i int) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		var first atomic.Value
		for range Workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n || first.Load() != nil {
						return
					}
					if err := f(i); err != nil && !apierrors.IsAlreadyExists(err) {
						first.CompareAndSwap(nil, err)
					}
				}
			})
		}
		wg.Wait()
		if err, ok := first.Load().(error); ok {
			tb.Fatalf("livetest: create cluster: %v", err)
		}
	}
	run(len(c.Namespaces), func(i int) error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, c.Namespaces[i], metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) { // kube-system: give it the generated labels
			ns, err := cs.CoreV1().Namespaces().Get(ctx, c.Namespaces[i].Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for k, v := range c.Namespaces[i].Labels {
				ns.Labels[k] = v
			}
			_, err = cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{})
			return err
		}
		return err
	})
	created := make([]*corev1.Pod, len(c.Pods))
	run(len(c.Pods), func(i int) error {
		p, err := cs.CoreV1().Pods(c.Pods[i].Namespace).Create(ctx, c.Pods[i], metav1.CreateOptions{})
		created[i] = p
		return err
	})
	run(len(c.Policies), func(i int) error {
		_, err := cs.NetworkingV1().NetworkPolicies(c.Policies[i].Namespace).Create(ctx, c.Policies[i], metav1.CreateOptions{})
		return err
	})
	cnp := schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1beta1", Resource: "clusternetworkpolicies"}
	run(len(c.Cluster), func(i int) error {
		u, _, err := toUnstructured(c.Cluster[i])
		if err != nil {
			return err
		}
		_, err = dyn.Resource(cnp).Create(ctx, u, metav1.CreateOptions{})
		return err
	})
	run(len(c.Pods), func(i int) error {
		p := created[i]
		if p == nil {
			return nil
		}
		p.Status = c.Pods[i].Status
		if p.Status.PodIP != "" && len(p.Status.PodIPs) == 0 {
			p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
		}
		p.Status.Phase = corev1.PodRunning
		_, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
	return time.Since(start)
}

// RemoveCRD deletes the CustomResourceDefinition of resource (plural)
// in group/version and waits until the server no longer serves it. The
// function it returns installs the same definition again and waits until
// the kind is served; tests call it to install a kind while something
// watches.
func RemoveCRD(tb testing.TB, env *kubetest.Env, group, version, plural string) (reinstall func()) {
	tb.Helper()
	ctx := context.Background()
	crds := env.Dynamic(tb).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	name := plural + "." + group
	crd, err := crds.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := crds.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		tb.Fatal(err)
	}
	served := func() bool {
		list, err := env.Clientset(tb).Discovery().ServerResourcesForGroupVersion(group + "/" + version)
		return err == nil && slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == plural })
	}
	WaitFor(tb, name+" gone", func() bool { return !served() })
	return func() {
		tb.Helper()
		crd.SetResourceVersion("")
		crd.SetUID("")
		crd.SetCreationTimestamp(metav1.Time{})
		crd.SetManagedFields(nil)
		delete(crd.Object, "status")
		InstallCRD(tb, env, crd)
	}
}

// InstallCRD creates a CustomResourceDefinition and waits until every
// version it serves accepts list requests (served in discovery is not yet
// accepting objects everywhere).
func InstallCRD(tb testing.TB, env *kubetest.Env, crd *unstructured.Unstructured) {
	tb.Helper()
	ctx := context.Background()
	crds := env.Dynamic(tb).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if _, err := crds.Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		tb.Fatal(err)
	}
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		name, _, _ := unstructured.NestedString(v.(map[string]any), "name")
		if served, _, _ := unstructured.NestedBool(v.(map[string]any), "served"); !served {
			continue
		}
		res := env.Dynamic(tb).Resource(schema.GroupVersionResource{Group: group, Version: name, Resource: plural})
		WaitFor(tb, plural+"."+group+"/"+name+" served", func() bool {
			_, err := res.List(ctx, metav1.ListOptions{Limit: 1})
			return err == nil
		})
	}
}

// WaitFor polls ok until it holds, failing the test after a minute.
func WaitFor(tb testing.TB, what string, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("livetest: timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
