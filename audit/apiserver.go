package audit

import "strings"

// apiServer is a kube-apiserver found in the input: a (static) pod or
// workload whose container runs kube-apiserver.
type apiServer struct {
	unit *Unit
	ctr  ContainerRef
	args []string
}

// flag returns the value of --name and whether it is set.
func (a apiServer) flag(name string) (string, bool) { return flagValue(a.args, name) }

// finding returns a finding about the API server, pointing at its command.
func (a apiServer) finding(msg, key string) Finding {
	return a.unit.containerFinding(a.ctr, msg, key, a.ctr.Path+".command")
}

// apiServers returns the kube-apiserver containers of the input: in a pod
// labelled component=kube-apiserver, or whose command or image names
// kube-apiserver.
func apiServers(c *Context) []apiServer {
	var out []apiServer
	for _, u := range c.Units {
		labelled := u.PodMeta.Labels["component"] == "kube-apiserver"
		for _, ct := range u.Containers() {
			args := append(append([]string(nil), ct.Command...), ct.Args...)
			runs := len(args) > 0 && strings.HasSuffix(strings.Fields(args[0] + " x")[0], "kube-apiserver")
			if !runs && !strings.Contains(ct.Image, "kube-apiserver") && !(labelled && ct.Name == "kube-apiserver") {
				continue
			}
			out = append(out, apiServer{unit: u, ctr: ct, args: args})
		}
	}
	return out
}
