package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"sigs.k8s.io/yaml"
)

// genPod writes a pod as `kubectl get pod -o yaml` would, trimmed of
// managedFields: about 60 lines.
func genPod(i int) map[string]any {
	ns := fmt.Sprintf("ns-%d", i%50)
	app := fmt.Sprintf("app-%d", i%200)
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata": map[string]any{
			"name":              fmt.Sprintf("%s-%d-x7k2p", app, i),
			"namespace":         ns,
			"uid":               fmt.Sprintf("8c3f1e2a-0000-4000-8000-%012d", i),
			"creationTimestamp": "2026-01-02T03:04:05Z",
			"labels":            map[string]any{"app": app, "tier": []string{"web", "api", "db"}[i%3], "pod-template-hash": "5d8f9c7b6"},
			"annotations":       map[string]any{"kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z"},
			"ownerReferences": []any{map[string]any{
				"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": app + "-5d8f9c7b6",
				"uid": fmt.Sprintf("1111-%d", i%200), "controller": true, "blockOwnerDeletion": true,
			}},
		},
		"spec": map[string]any{
			"nodeName":           fmt.Sprintf("node-%d", i%20),
			"serviceAccountName": "default",
			"containers": []any{map[string]any{
				"name":            "main",
				"image":           "registry.example/" + app + ":1.2.3",
				"imagePullPolicy": "IfNotPresent",
				"ports": []any{
					map[string]any{"name": "http", "containerPort": 8080, "protocol": "TCP"},
					map[string]any{"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
				},
				"env": []any{
					map[string]any{"name": "LOG_LEVEL", "value": "info"},
					map[string]any{"name": "POD_IP", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "status.podIP"}}},
				},
				"resources": map[string]any{
					"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
					"limits":   map[string]any{"memory": "256Mi"},
				},
				"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": "http"}, "periodSeconds": 10},
			}},
		},
		"status": map[string]any{
			"phase":  "Running",
			"hostIP": fmt.Sprintf("192.168.0.%d", i%20+1),
			"podIP":  fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256),
			"podIPs": []any{map[string]any{"ip": fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256)}},
			"conditions": []any{
				map[string]any{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-02T03:04:05Z"},
				map[string]any{"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-01-02T03:04:05Z"},
			},
		},
	}
}

func genPolicy(i int) map[string]any {
	return map[string]any{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "NetworkPolicy",
		"metadata":   map[string]any{"name": fmt.Sprintf("allow-%d", i), "namespace": fmt.Sprintf("ns-%d", i%50)},
		"spec": map[string]any{
			"podSelector": map[string]any{"matchLabels": map[string]any{"app": fmt.Sprintf("app-%d", i%200)}},
			"policyTypes": []string{"Ingress", "Egress"},
			"ingress": []any{map[string]any{
				"from": []any{
					map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"team": "a"}},
						"podSelector": map[string]any{"matchExpressions": []any{map[string]any{"key": "tier", "operator": "In", "values": []string{"web", "api"}}}}},
					map[string]any{"ipBlock": map[string]any{"cidr": "10.0.0.0/8", "except": []string{"10.1.0.0/16"}}},
				},
				"ports": []any{map[string]any{"port": 8080}, map[string]any{"port": "metrics"}},
			}},
			"egress": []any{map[string]any{
				"to":    []any{map[string]any{"namespaceSelector": map[string]any{}, "podSelector": map[string]any{"matchLabels": map[string]any{"k8s-app": "kube-dns"}}}},
				"ports": []any{map[string]any{"port": 53, "protocol": "UDP"}, map[string]any{"port": 53, "protocol": "TCP"}},
			}},
		},
	}
}

func genObjects(pods, policies int) []map[string]any {
	objs := make([]map[string]any, 0, pods+policies)
	for i := range pods {
		objs = append(objs, genPod(i))
	}
	for i := range policies {
		objs = append(objs, genPolicy(i))
	}
	return objs
}

// genManifests writes objects as multi-document YAML, as one kubectl-style
// List in YAML, or as one List in JSON.
func genManifests(tb testing.TB, format string, objs []map[string]any) []byte {
	var buf bytes.Buffer
	switch format {
	case "yaml":
		for _, o := range objs {
			b, err := yaml.Marshal(o)
			if err != nil {
				tb.Fatal(err)
			}
			buf.WriteString("---\n")
			buf.Write(b)
		}
	case "list-yaml", "list-json":
		items := make([]any, len(objs))
		for i, o := range objs {
			items[i] = o
		}
		list := map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items}
		var b []byte
		var err error
		if format == "list-yaml" {
			b, err = yaml.Marshal(list)
		} else {
			b, err = json.MarshalIndent(list, "", "    ")
		}
		if err != nil {
			tb.Fatal(err)
		}
		buf.Write(b)
	default:
		tb.Fatalf("unknown format %q", format)
	}
	return buf.Bytes()
}

func BenchmarkLoad(b *testing.B) {
	sizes := []struct{ pods, policies int }{{100, 20}, {1000, 200}, {10000, 2000}}
	for _, format := range []string{"yaml", "list-yaml", "list-json"} {
		for _, sz := range sizes {
			data := genManifests(b, format, genObjects(sz.pods, sz.policies))
			runtime.GC() // collect the generator's garbage outside the timed loop
			name := fmt.Sprintf("format=%s/pods=%d,policies=%d", format, sz.pods, sz.policies)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				cpu := processCPU()
				for b.Loop() {
					r := LoadBytes("bench."+map[bool]string{true: "json", false: "yaml"}[format == "list-json"], data, Options{})
					if len(r.Snapshot.Problems) > 0 || len(r.Snapshot.Endpoints) != sz.pods || len(r.Snapshot.Policies) != sz.policies {
						b.Fatalf("load: %d problems (first %v), %d endpoints, %d policies",
							len(r.Snapshot.Problems), r.Snapshot.Problems[0], len(r.Snapshot.Endpoints), len(r.Snapshot.Policies))
					}
				}
				// CPU time of all threads per load: with the wall time it
				// shows how well the load uses the cores, and it is less
				// disturbed by other work on the machine.
				if cpu > 0 {
					b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}
