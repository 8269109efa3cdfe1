package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the server-side apply field manager Env.Apply uses.
const FieldManager = "bulkhead-kubetest"

// crdGVR is the resource of CustomResourceDefinitions.
var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// clients are the admin clients, made once per Env.
type clients struct {
	typed   kubernetes.Interface
	dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

func (e *Env) adminClients() (*clients, error) {
	e.clientsOnce.Do(func() {
		typed, err := kubernetes.NewForConfig(e.Config())
		if err != nil {
			e.clientsErr = err
			return
		}
		dyn, err := dynamic.NewForConfig(e.Config())
		if err != nil {
			e.clientsErr = err
			return
		}
		disc, err := discovery.NewDiscoveryClientForConfig(e.Config())
		if err != nil {
			e.clientsErr = err
			return
		}
		e.clients = &clients{
			typed:   typed,
			dynamic: dyn,
			mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
		}
	})
	return e.clients, e.clientsErr
}

func (e *Env) mustClients(t testing.TB) *clients {
	t.Helper()
	c, err := e.adminClients()
	if err != nil {
		t.Fatalf("kubetest: clients: %v", err)
	}
	return c
}

// Clientset returns a typed admin clientset.
func (e *Env) Clientset(t testing.TB) kubernetes.Interface {
	t.Helper()
	return e.mustClients(t).typed
}

// Dynamic returns a dynamic admin client, for the network-policy-api kinds
// and anything else without a typed client here.
func (e *Env) Dynamic(t testing.TB) dynamic.Interface {
	t.Helper()
	return e.mustClients(t).dynamic
}

// readCRDs reads every *.yaml file in dir as CustomResourceDefinitions.
func readCRDs(dir string) ([]*unstructured.Unstructured, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("kubetest: no CRDs in %s", dir)
	}
	var crds []*unstructured.Unstructured
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		objs, err := decodeManifests(data)
		if err != nil {
			return nil, fmt.Errorf("kubetest: %s: %w", p, err)
		}
		for _, o := range objs {
			if o.GetKind() != "CustomResourceDefinition" {
				return nil, fmt.Errorf("kubetest: %s: %s %q is not a CustomResourceDefinition", p, o.GetKind(), o.GetName())
			}
		}
		crds = append(crds, objs...)
	}
	return crds, nil
}

// installCRDs creates the CRDs, waits until each is Established and then until
// discovery serves every version, so that informers and Apply find them.
func (e *Env) installCRDs(ctx context.Context, crds []*unstructured.Unstructured) error {
	c, err := e.adminClients()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, crdTimeout)
	defer cancel()
	for _, crd := range crds {
		if _, err := c.dynamic.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("kubetest: create CRD %s: %w", crd.GetName(), err)
		}
	}
	for _, crd := range crds {
		if err := poll(ctx, func() (bool, error) {
			got, err := c.dynamic.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return conditionTrue(got, "Established"), nil
		}); err != nil {
			return fmt.Errorf("kubetest: CRD %s not Established: %w", crd.GetName(), err)
		}
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			name, _, _ := unstructured.NestedString(v.(map[string]any), "name")
			gv := group + "/" + name
			if err := poll(ctx, func() (bool, error) {
				list, err := c.typed.Discovery().ServerResourcesForGroupVersion(gv)
				if err != nil {
					return false, nil // not served yet
				}
				return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == plural }), nil
			}); err != nil {
				return fmt.Errorf("kubetest: %s not served in discovery of %s: %w", plural, gv, err)
			}
		}
	}
	c.mapper.Reset()
	return nil
}

func conditionTrue(obj *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}

// poll calls f every 50 ms until it reports done, returns an error or ctx ends.
func poll(ctx context.Context, f func() (bool, error)) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// decodeManifests splits multi-document YAML (or JSON) into objects, skipping
// empty documents. A List is not expanded.
func decodeManifests(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return objs, fmt.Errorf("document %d: %w", i, err)
		}
		if len(m) == 0 {
			continue
		}
		o := &unstructured.Unstructured{Object: m}
		if o.GetAPIVersion() == "" || o.GetKind() == "" || o.GetName() == "" {
			return objs, fmt.Errorf("document %d: apiVersion, kind and metadata.name are required", i)
		}
		objs = append(objs, o)
	}
}

// Apply server-side applies every object in manifests (multi-document YAML or
// JSON) as the admin, putting namespaced objects without a namespace into
// namespace, and returns the objects as stored. It fails the test on any error.
// Each applied object is deleted when the test ends, so cluster-scoped objects
// do not leak into other tests sharing the Env.
func (e *Env) Apply(t testing.TB, namespace, manifests string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := e.TryApply(t, namespace, manifests)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TryApply is Apply that returns the first error instead of failing the test,
// for tests that expect the apiserver to reject an object. Objects before the
// failing one stay applied (and are deleted when the test ends).
func (e *Env) TryApply(t testing.TB, namespace, manifests string) ([]*unstructured.Unstructured, error) {
	t.Helper()
	c := e.mustClients(t)
	objs, err := decodeManifests([]byte(manifests))
	if err != nil {
		return nil, fmt.Errorf("kubetest: apply: %w", err)
	}
	ctx := context.Background()
	var applied []*unstructured.Unstructured
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			c.mapper.Reset() // a CRD the test created since the cache filled
			mapping, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		}
		if err != nil {
			return applied, fmt.Errorf("kubetest: apply %s %s: %w", gvk.Kind, o.GetName(), err)
		}
		var ri dynamic.ResourceInterface = c.dynamic.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			if o.GetNamespace() == "" {
				if namespace == "" {
					return applied, fmt.Errorf("kubetest: apply %s %s: namespaced object without a namespace, and none given", gvk.Kind, o.GetName())
				}
				o.SetNamespace(namespace)
			}
			ri = c.dynamic.Resource(mapping.Resource).Namespace(o.GetNamespace())
		}
		got, err := ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
		if err != nil {
			return applied, fmt.Errorf("kubetest: apply %s %s: %w", gvk.Kind, objectName(o), err)
		}
		t.Cleanup(func() { deleteNow(t, ri, got) })
		applied = append(applied, got)
	}
	return applied, nil
}

func objectName(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}

// deleteNow deletes an object with no grace period: with no kubelet, a pod
// bound to a node would otherwise stay Terminating forever.
func deleteNow(t testing.TB, ri dynamic.ResourceInterface, o *unstructured.Unstructured) {
	t.Helper()
	err := ri.Delete(context.Background(), o.GetName(), metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("kubetest: cleanup: delete %s %s: %v", o.GetKind(), objectName(o), err)
	}
}

// nonDNS matches runs of characters not allowed in a namespace name.
var nonDNS = regexp.MustCompile(`[^a-z0-9]+`)

// Namespace creates a namespace with a fresh name derived from the test's
// name, with the given labels, and returns its name. The namespace is deleted
// when the test ends; with no namespace controller it then stays Terminating,
// which is harmless because names are never reused.
func (e *Env) Namespace(t testing.TB, labels map[string]string) string {
	t.Helper()
	prefix := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-")
	}
	name := prefix + "-" + rand.String(6)
	if prefix == "" {
		name = "kt-" + rand.String(6)
	}
	cs := e.Clientset(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("kubetest: create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		err := cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("kubetest: cleanup: delete namespace %s: %v", name, err)
		}
	})
	return name
}

// SetPodIPs records ips as the pod's addresses through the status
// subresource, as a kubelet would: status.podIP is the first address and
// status.podIPs all of them (at most one per IP family). It also sets the phase
// to Running if the pod was Pending or had no phase, since no kubelet will.
// It returns the updated pod.
func (e *Env) SetPodIPs(t testing.TB, namespace, name string, ips ...string) *corev1.Pod {
	t.Helper()
	if len(ips) == 0 {
		t.Fatal("kubetest: SetPodIPs needs at least one IP")
	}
	return e.UpdatePodStatus(t, namespace, name, func(s *corev1.PodStatus) {
		s.PodIP = ips[0]
		s.PodIPs = nil
		for _, ip := range ips {
			s.PodIPs = append(s.PodIPs, corev1.PodIP{IP: ip})
		}
		if s.Phase == "" || s.Phase == corev1.PodPending {
			s.Phase = corev1.PodRunning
		}
	})
}

// UpdatePodStatus reads the pod, lets mutate change its status and writes it
// back through the status subresource, retrying on conflicts.
func (e *Env) UpdatePodStatus(t testing.TB, namespace, name string, mutate func(*corev1.PodStatus)) *corev1.Pod {
	t.Helper()
	pods := e.Clientset(t).CoreV1().Pods(namespace)
	ctx := context.Background()
	for attempt := 0; ; attempt++ {
		pod, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("kubetest: get pod %s/%s: %v", namespace, name, err)
		}
		mutate(&pod.Status)
		got, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) && attempt < 5 {
			continue
		}
		if err != nil {
			t.Fatalf("kubetest: update status of pod %s/%s: %v", namespace, name, err)
		}
		return got
	}
}
