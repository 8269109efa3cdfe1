package manifest_test

import (
	"fmt"

	"github.com/bulkhead/bulkhead/model"
	"github.com/bulkhead/bulkhead/parse/manifest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ExampleLoadBytes() {
	data := []byte(`apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx
    ports: [{name: http, containerPort: 80}]
status:
  podIP: 10.0.0.5
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podselector: {matchLabels: {app: web}}
`)
	r := manifest.LoadBytes("shop.yaml", data, manifest.Options{})
	for _, e := range r.Snapshot.Endpoints {
		fmt.Println(e.ID(), e.IPs, e.Source)
	}
	for _, p := range r.Snapshot.Problems {
		fmt.Println(p.Error())
	}
	// Output:
	// shop/web [10.0.0.5] shop.yaml:1: pod shop/web
	// shop.yaml:21: networkpolicy shop/web: spec.podselector: unknown field (did you mean "podSelector"?); the policy is left out
}

func ExampleBuilder() {
	b := manifest.NewBuilder(manifest.Options{})
	b.Add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "a"}}}, model.Source{})
	b.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}}, model.Source{})
	b.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debug"}}, model.Source{})
	s := b.Snapshot()
	for _, name := range s.NamespaceNames() {
		ns := s.Namespaces[name]
		fmt.Println(name, ns.Declared, ns.Labels)
	}
	for _, e := range s.Endpoints {
		fmt.Println(e.ID())
	}
	// Output:
	// default false map[kubernetes.io/metadata.name:default]
	// shop true map[kubernetes.io/metadata.name:shop team:a]
	// default/debug
	// shop/web
}
