//go:build linux

package lab_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/google/nftables"

	"github.com/bulkhead/bulkhead/lab"
	"github.com/bulkhead/bulkhead/model"
)

// Up builds the lab (as root); a compiler's rules go into the node
// namespaces, here through github.com/google/nftables, which dials
// netlink inside the namespace without switching threads; then ProbeAll
// checks every flow with real packets. (Not run by go test: it needs root.
// The TestPrivileged tests run the same steps.)
func ExampleUp() {
	ctx := context.Background()
	topo := lab.Topology{Hosts: []lab.Host{
		{Name: "shop/web", Node: "node-1", Ports: []model.ContainerPort{{Protocol: model.TCP, Port: 80}}},
		{Name: "shop/db", Node: "node-2", Ports: []model.ContainerPort{{Protocol: model.TCP, Port: 5432}}},
	}}
	l, err := lab.Up(ctx, topo, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Down(ctx)

	ns, err := l.NodeNetns("node-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	conn, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = conn // conn.AddTable(...); conn.Flush()

	resolved := l.Topology()
	for _, r := range l.ProbeAll(ctx, resolved.AllProbes(), 0) {
		fmt.Println(r)
	}
}
