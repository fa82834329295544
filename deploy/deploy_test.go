// Package deploy_test keeps the deployment files honest: every compose and
// Kubernetes file is parsed and checked against what the binary really
// accepts and serves (config's settings, the command table's subcommands,
// the ports and health paths each role listens on), so renaming a flag or a
// port without updating deploy/ fails the build.
package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lienthong/lienthong/cli"
	"github.com/lienthong/lienthong/config"
	"github.com/lienthong/lienthong/pki"
	"github.com/lienthong/lienthong/workflows"
)

// lienthongImage is the one image every lienthong container runs.
const lienthongImage = "ghcr.io/lienthong/lienthong"

// A role is what a subcommand binds and dials, by LIENTHONG_* setting.
type role struct {
	listen []string // host:port settings it listens on
	http   string   // the one serving /healthz, /readyz and /metrics
	dials  []string // host:port settings it connects to
}

var agencyListen = map[string]string{
	"justice":   "LIENTHONG_JUSTICE_ADDR",
	"police":    "LIENTHONG_POLICE_ADDR",
	"insurance": "LIENTHONG_INSURANCE_ADDR",
	"portal":    "LIENTHONG_PORTAL_ADDR",
	"sms":       "LIENTHONG_SMS_ADDR",
	"mail":      "LIENTHONG_SMTP_ADDR",
}

var roles = map[string]role{
	"api": {
		listen: []string{"LIENTHONG_API_GRPC_ADDR", "LIENTHONG_API_HTTP_ADDR"},
		http:   "LIENTHONG_API_HTTP_ADDR",
		dials:  []string{"LIENTHONG_TEMPORAL_ADDRESS"},
	},
	"worker": {
		listen: []string{"LIENTHONG_WORKER_HTTP_ADDR"},
		http:   "LIENTHONG_WORKER_HTTP_ADDR",
		dials: []string{"LIENTHONG_TEMPORAL_ADDRESS", "LIENTHONG_JUSTICE_ADDR", "LIENTHONG_POLICE_ADDR",
			"LIENTHONG_INSURANCE_ADDR", "LIENTHONG_PORTAL_ADDR", "LIENTHONG_SMS_ADDR", "LIENTHONG_SMTP_ADDR"},
	},
	"agency": {
		// Plus the gRPC address of each agency it runs (see listening).
		listen: []string{"LIENTHONG_AGENCY_HTTP_ADDR"},
		http:   "LIENTHONG_AGENCY_HTTP_ADDR",
		dials:  []string{"LIENTHONG_CALLBACK_ADDR"},
	},
	// temporal binds LIENTHONG_LISTEN_IP on the port settings (see listening).
	"temporal": {},
	"migrate":  {},
}

// checker knows what the binary accepts.
type checker struct {
	envs        map[string]bool   // every LIENTHONG_* setting
	secret      map[string]bool   // settings that may also come from LIENTHONG_*_FILE
	defaults    map[string]string // setting -> default
	flags       map[string]string // flag name -> setting
	boolFlags   map[string]bool
	subcommands map[string]bool
	// reads and takes are, per subcommand, the LIENTHONG_* variables it
	// reads and the flags it accepts: kong refuses any other flag, and
	// ignores any other variable.
	reads map[string]map[string]bool
	takes map[string]map[string]bool
}

func newChecker(t *testing.T) *checker {
	t.Helper()
	c := &checker{envs: map[string]bool{}, secret: map[string]bool{}, defaults: map[string]string{},
		flags: map[string]string{}, boolFlags: map[string]bool{}}
	for _, s := range config.Settings() {
		c.envs[s.Env()] = true
		c.defaults[s.Env()] = s.Default
		c.flags[s.Flag] = s.Env()
		if s.IsBool {
			c.boolFlags[s.Flag] = true
		}
		if s.Secret {
			c.secret[s.Env()] = true
		}
	}
	require.NotEmpty(t, c.secret, "no secret settings found in config")
	c.subcommands, c.reads, c.takes = map[string]bool{}, map[string]map[string]bool{}, map[string]map[string]bool{}
	for _, cmd := range cli.Commands() {
		c.subcommands[cmd.Name] = true
		c.reads[cmd.Name], c.takes[cmd.Name] = map[string]bool{}, map[string]bool{}
		for _, s := range cmd.Settings {
			c.reads[cmd.Name][s.Env()] = true
		}
		for _, f := range cmd.Flags {
			c.takes[cmd.Name][f] = true
		}
	}
	require.NotEmpty(t, c.subcommands, "the command table is empty")
	require.True(t, c.reads["worker"]["LIENTHONG_TEMPORAL_ADDRESS"], "the command table lists each command's settings")
	require.False(t, c.reads["migrate"]["LIENTHONG_TEMPORAL_ADDRESS"], "the command table lists each command's settings")
	return c
}

// report collects findings, each prefixed with where it was found.
type report struct{ errs []string }

func (r *report) add(where, format string, args ...any) {
	r.errs = append(r.errs, where+": "+fmt.Sprintf(format, args...))
}

// envValue is one environment variable and where its value comes from.
type envValue struct {
	value  string
	source string // "literal", "configmap", "env file" or "secret"
	// shared values come from a block several containers take whole (an
	// env_file, envFrom), not from the container's own list.
	shared bool
}

type probe struct {
	kind, path, scheme string
	port               any // number or a container port's name
}

type containerPort struct {
	name   string
	number int
}

// container is one process definition, from compose or Kubernetes.
type container struct {
	where      string
	image      string
	argv       []string
	env        map[string]envValue
	ports      []containerPort // Kubernetes containerPorts, compose ports and expose
	probes     []probe
	kubernetes bool
	workload   string // Kubernetes kind, e.g. Deployment
	resources  map[string]any
	// secretFiles are the paths where secret files are mounted.
	secretFiles map[string]bool
	// identities are the lienthong:// URIs of the certificates mounted at
	// paths, where cert-manager issues them (Kubernetes).
	identities map[string]string
}

// dial is a host:port a container connects to.
type dial struct {
	where, setting, addr string
}

// process is a checked lienthong container.
type process struct {
	role      string
	listening map[int]bool
	httpPort  int
	dials     []dial
	// shared are the variables it takes from a shared block, and unread
	// those of them its command does not read.
	shared, unread map[string]bool
}

// checkShared finds variables of a shared block (an env_file, an envFrom)
// that no process taking the block reads: settings that change nothing.
func checkShared(where string, procs []*process, r *report) {
	takers := map[string][]string{}
	read := map[string]bool{}
	for _, p := range procs {
		for name := range p.shared {
			takers[name] = append(takers[name], p.role)
			read[name] = read[name] || !p.unread[name]
		}
	}
	for _, name := range slices.Sorted(maps.Keys(takers)) {
		if !read[name] {
			roles := slices.Compact(slices.Sorted(slices.Values(takers[name])))
			r.add(where, "%s: shared with %s, and none of them reads it", name, strings.Join(roles, ", "))
		}
	}
}

func repoOf(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	// The tag starts at the first colon of the last path element, so a
	// compose default such as :${TAG:-latest} is cut whole.
	slash := strings.LastIndex(image, "/")
	if i := strings.Index(image[slash+1:], ":"); i >= 0 {
		image = image[:slash+1+i]
	}
	return image
}

func isLienthong(image string) bool { return strings.Contains(path.Base(repoOf(image)), "lienthong") }

func hostPort(s string) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	return h, n, nil
}

func wildcard(host string) bool { return host == "" || host == "0.0.0.0" || host == "::" }

// checkContainer checks one container on its own and, for a lienthong one,
// returns what it listens on and dials for the bundle-level checks.
func (c *checker) checkContainer(ct container, r *report) *process {
	for name, v := range ct.env {
		if !strings.HasPrefix(name, "LIENTHONG_") {
			continue
		}
		if base, ok := strings.CutSuffix(name, "_FILE"); ok && !c.envs[name] {
			switch {
			case !c.envs[base]:
				r.add(ct.where, "%s: no setting %s in config", name, base)
			case !c.secret[base]:
				r.add(ct.where, "%s: %s is not a secret, so it is never read from a file", name, base)
			case v.source != "secret" && !ct.secretFiles[v.value]:
				r.add(ct.where, "%s=%s: no secret is mounted at that path", name, v.value)
			}
			continue
		}
		if !c.envs[name] {
			r.add(ct.where, "%s: no such setting in config", name)
			continue
		}
		if c.secret[name] && v.source != "secret" {
			r.add(ct.where, "%s: a secret set in plain text (%s); use %s_FILE", name, v.source, name)
		}
	}
	if !isLienthong(ct.image) {
		return nil
	}
	if repoOf(ct.image) != lienthongImage {
		r.add(ct.where, "image %s: lienthong's image is %s everywhere", ct.image, lienthongImage)
	}

	argv := ct.argv
	if len(argv) > 0 && path.Base(argv[0]) == "lienthong" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		r.add(ct.where, "no subcommand: the image's default only prints the version")
		return nil
	}
	sub := argv[0]
	if !c.subcommands[sub] {
		r.add(ct.where, "subcommand %q: not one of lienthong's subcommands", sub)
		return nil
	}
	rl, deployable := roles[sub]
	if !deployable {
		r.add(ct.where, "subcommand %q is not a deployable role", sub)
		return nil
	}

	// The settings the process will run with: defaults, environment, flags.
	eff := map[string]string{}
	for k, v := range c.defaults {
		eff[k] = v
	}
	for k, v := range ct.env {
		eff[k] = v.value
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") {
			r.add(ct.where, "argument %q: subcommands take only flags", a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		env := c.flags[name]
		if !c.takes[sub][name] {
			r.add(ct.where, "flag --%s: %s takes no such flag, and would refuse to start", name, sub)
			continue
		}
		if !hasVal && !c.boolFlags[name] {
			if i+1 >= len(argv) {
				r.add(ct.where, "flag --%s: missing its value", name)
				continue
			}
			i++
			val = argv[i]
		}
		if !hasVal && c.boolFlags[name] {
			val = "true"
		}
		if c.secret[env] {
			r.add(ct.where, "flag --%s: a secret on the command line; use %s_FILE", name, env)
		}
		eff[env] = val
	}

	c.checkTransport(ct, sub, eff, r)
	p := &process{role: sub, listening: map[int]bool{}, shared: map[string]bool{}, unread: map[string]bool{}}
	for name, v := range ct.env {
		base, _ := strings.CutSuffix(name, "_FILE")
		if !strings.HasPrefix(name, "LIENTHONG_") || !c.envs[base] {
			continue
		}
		read := c.reads[sub][base]
		switch {
		case v.shared:
			p.shared[name] = true
			p.unread[name] = !read
		case !read:
			r.add(ct.where, "%s: %s does not read it, so it changes nothing", name, sub)
		}
	}
	listen := slices.Clone(rl.listen)
	switch sub {
	case "agency":
		if name := eff["LIENTHONG_AGENCY_NAME"]; name == "all" {
			for _, a := range agencyListen {
				listen = append(listen, a)
			}
		} else if a, ok := agencyListen[name]; ok {
			listen = append(listen, a)
		}
	case "temporal":
		if ip := eff["LIENTHONG_LISTEN_IP"]; !wildcard(ip) {
			r.add(ct.where, "temporal binds %s (LIENTHONG_LISTEN_IP / --listen-ip): unreachable from outside the container; use 0.0.0.0", ip)
		}
		for _, s := range []string{"LIENTHONG_TEMPORAL_PORT", "LIENTHONG_TEMPORAL_UI_PORT", "LIENTHONG_TEMPORAL_METRICS_PORT"} {
			if n, err := strconv.Atoi(eff[s]); err == nil && n > 0 {
				p.listening[n] = true
			}
		}
	}
	for _, s := range listen {
		host, port, err := hostPort(eff[s])
		if err != nil {
			r.add(ct.where, "%s=%q: not host:port", s, eff[s])
			continue
		}
		if !wildcard(host) {
			r.add(ct.where, "%s binds %s: unreachable from outside the container; set %s=0.0.0.0:%d", s, host, s, port)
		}
		p.listening[port] = true
		if s == rl.http {
			p.httpPort = port
		}
	}
	for _, s := range rl.dials {
		p.dials = append(p.dials, dial{where: ct.where, setting: s, addr: eff[s]})
	}

	named := map[string]int{}
	for _, cp := range ct.ports {
		if cp.name != "" {
			named[cp.name] = cp.number
		}
		if !p.listening[cp.number] {
			r.add(ct.where, "port %d: %s listens on %s", cp.number, sub, ports(p.listening))
		}
	}
	kinds := map[string]bool{}
	for _, pr := range ct.probes {
		kinds[pr.kind] = true
		want := map[string]string{"readiness": "/readyz", "liveness": "/healthz"}[pr.kind]
		switch {
		case pr.path != "/healthz" && pr.path != "/readyz":
			r.add(ct.where, "%s probe path %q: the binary serves /healthz and /readyz", pr.kind, pr.path)
		case want != "" && pr.path != want:
			r.add(ct.where, "%s probe path %q: should be %s", pr.kind, pr.path, want)
		}
		var port int
		switch v := pr.port.(type) {
		case int:
			port = v
		case string:
			if n, ok := named[v]; ok {
				port = n
			} else if n, err := strconv.Atoi(v); err == nil {
				port = n
			} else {
				r.add(ct.where, "%s probe port %q: no container port of that name", pr.kind, v)
				continue
			}
		}
		if pr.scheme != "HTTPS" && eff["LIENTHONG_TLS_CERT_FILE"] != "" {
			r.add(ct.where, "%s probe: %s serves health over TLS; set scheme: HTTPS", pr.kind, sub)
		}
		if p.httpPort == 0 {
			r.add(ct.where, "%s probe: %s serves no health endpoints", pr.kind, sub)
		} else if port != p.httpPort {
			r.add(ct.where, "%s probe port %d: %s serves health on %d", pr.kind, port, sub, p.httpPort)
		}
	}
	if ct.kubernetes && ct.workload == "Deployment" && rl.http != "" {
		for _, k := range []string{"readiness", "liveness"} {
			if !kinds[k] {
				r.add(ct.where, "no %s probe", k)
			}
		}
	}
	return p
}

func ports(set map[int]bool) string {
	var out []string
	for n := range set {
		out = append(out, strconv.Itoa(n))
	}
	slices.Sort(out)
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// checkDials checks each dial names a known service on a port it serves.
func checkDials(procs []*process, services map[string]map[int]bool, r *report) {
	for _, p := range procs {
		for _, d := range p.dials {
			host, port, err := hostPort(d.addr)
			if err != nil {
				r.add(d.where, "%s=%q: not host:port", d.setting, d.addr)
				continue
			}
			svc := strings.SplitN(host, ".", 2)[0]
			served, ok := services[svc]
			switch {
			case host == "127.0.0.1" || host == "localhost" || host == "::1":
				r.add(d.where, "%s=%s: loopback, which is this container itself; set it to the service's name", d.setting, d.addr)
			case !ok:
				r.add(d.where, "%s=%s: no service %q", d.setting, d.addr, svc)
			case !served[port]:
				r.add(d.where, "%s=%s: service %s serves %s", d.setting, d.addr, svc, ports(served))
			}
		}
	}
}

// --- YAML helpers -----------------------------------------------------------

func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = str(e)
		}
		return out
	}
	return nil
}

func mapping(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func decodeAll(data []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if doc != nil {
			out = append(out, doc)
		}
	}
}

// --- Kubernetes ---------------------------------------------------------------

type k8sDoc struct {
	file string
	obj  map[string]any
}

func (d k8sDoc) kind() string { return str(d.obj["kind"]) }
func (d k8sDoc) name() string { return str(get(d.obj, "metadata", "name")) }
func (d k8sDoc) where() string {
	return fmt.Sprintf("%s: %s %s", d.file, d.kind(), d.name())
}

func podTemplate(d k8sDoc) map[string]any {
	switch d.kind() {
	case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
		return mapping(get(d.obj, "spec", "template"))
	case "CronJob":
		return mapping(get(d.obj, "spec", "jobTemplate", "spec", "template"))
	}
	return nil
}

func selects(selector, labels map[string]any) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if str(labels[k]) != str(v) {
			return false
		}
	}
	return true
}

// checkKubernetes checks the objects of a set of manifests together.
// external names services outside them (the Temporal chart's frontend).
// It returns the findings and the lienthong processes it found.
func (c *checker) checkKubernetes(docs []k8sDoc, external map[string]map[int]bool) ([]string, []*process) {
	r := &report{}
	configMaps := map[string]map[string]string{}
	secrets := map[string]map[string]bool{}
	// certURIs are the identities of the certificates cert-manager writes, by Secret.
	certURIs := map[string]string{}
	for _, d := range docs {
		switch d.kind() {
		case "ConfigMap":
			data := map[string]string{}
			for k, v := range mapping(d.obj["data"]) {
				data[k] = str(v)
				if strings.HasPrefix(k, "LIENTHONG_") {
					base, isFile := strings.CutSuffix(k, "_FILE")
					switch {
					case isFile && c.envs[base] && !c.secret[base]:
						r.add(d.where(), "%s: %s is not a secret", k, base)
					case !c.envs[k] && !(isFile && c.envs[base]):
						r.add(d.where(), "%s: no such setting in config", k)
					case c.secret[k]:
						r.add(d.where(), "%s: a secret in a ConfigMap; put it in the Secret and use %s_FILE", k, k)
					}
				}
			}
			configMaps[d.name()] = data
		case "Secret":
			keys := map[string]bool{}
			for _, field := range []string{"data", "stringData"} {
				for k := range mapping(d.obj[field]) {
					keys[k] = true
				}
			}
			secrets[d.name()] = keys
		case "Certificate":
			// cert-manager writes the Secret: the certificate, its key and
			// the issuing CA.
			name := str(get(d.obj, "spec", "secretName"))
			secrets[name] = map[string]bool{"tls.crt": true, "tls.key": true, "ca.crt": true}
			if get(d.obj, "spec", "isCA") == true {
				continue
			}
			var uris []string
			for _, u := range strs(get(d.obj, "spec", "uris")) {
				if strings.HasPrefix(u, "lienthong://") {
					uris = append(uris, u)
				}
			}
			if len(uris) != 1 {
				r.add(d.where(), "names %d lienthong:// identities in spec.uris; a lienthong certificate names one", len(uris))
			} else {
				certURIs[name] = uris[0]
			}
			if u := strs(get(d.obj, "spec", "usages")); !slices.Contains(u, "server auth") || !slices.Contains(u, "client auth") {
				r.add(d.where(), "usages %v: a part both serves and calls, so it needs server auth and client auth", u)
			}
		}
	}

	type pod struct {
		where  string
		labels map[string]any
		ports  map[string]int
		nums   map[int]bool
	}
	var pods []pod
	var procs []*process
	services := map[string]map[int]bool{}
	for k, v := range external {
		services[k] = v
	}
	for _, d := range docs {
		tmpl := podTemplate(d)
		if tmpl == nil {
			continue
		}
		spec := mapping(tmpl["spec"])
		pd := pod{where: d.where(), labels: mapping(get(tmpl, "metadata", "labels")), ports: map[string]int{}, nums: map[int]bool{}}
		if sel := mapping(get(d.obj, "spec", "selector", "matchLabels")); d.kind() != "Job" && d.kind() != "CronJob" && !selects(sel, pd.labels) {
			r.add(d.where(), "selector %v does not match the pod template's labels", sel)
		}
		// Secret volumes: which files each mount path holds.
		volumes := map[string]map[string]bool{}
		volumeURIs := map[string]string{}
		for _, v := range list(spec["volumes"]) {
			sec := mapping(get(v, "secret"))
			if sec == nil {
				continue
			}
			name := str(sec["secretName"])
			volumeURIs[str(get(v, "name"))] = certURIs[name]
			keys, known := secrets[name]
			if !known {
				r.add(d.where(), "volume %s: no Secret %q among the manifests", str(get(v, "name")), name)
			}
			files := map[string]bool{}
			for _, it := range list(sec["items"]) {
				if known && !keys[str(get(it, "key"))] {
					r.add(d.where(), "volume %s: Secret %s has no key %q", str(get(v, "name")), name, str(get(it, "key")))
				}
				files[str(get(it, "path"))] = true
			}
			if len(list(sec["items"])) == 0 {
				for k := range keys {
					files[k] = true
				}
			}
			volumes[str(get(v, "name"))] = files
		}
		containers := slices.Concat(list(spec["initContainers"]), list(spec["containers"]))
		for _, raw := range containers {
			ct := container{
				where:       fmt.Sprintf("%s container %s", d.where(), str(get(raw, "name"))),
				image:       str(get(raw, "image")),
				argv:        append(strs(get(raw, "command")), strs(get(raw, "args"))...),
				env:         map[string]envValue{},
				kubernetes:  true,
				workload:    d.kind(),
				resources:   mapping(get(raw, "resources")),
				secretFiles: map[string]bool{},
				identities:  map[string]string{},
			}
			for _, m := range list(get(raw, "volumeMounts")) {
				for f := range volumes[str(get(m, "name"))] {
					ct.secretFiles[path.Join(str(get(m, "mountPath")), f)] = true
					if uri := volumeURIs[str(get(m, "name"))]; uri != "" && f == "tls.crt" {
						ct.identities[path.Join(str(get(m, "mountPath")), f)] = uri
					}
				}
			}
			for _, ef := range list(get(raw, "envFrom")) {
				if name := str(get(ef, "configMapRef", "name")); name != "" {
					data, ok := configMaps[name]
					if !ok {
						r.add(ct.where, "envFrom: no ConfigMap %q among the manifests", name)
					}
					for k, v := range data {
						ct.env[k] = envValue{value: v, source: "configmap", shared: true}
					}
				}
				if name := str(get(ef, "secretRef", "name")); name != "" {
					for k := range secrets[name] {
						ct.env[k] = envValue{source: "secret", shared: true}
					}
				}
			}
			for _, e := range list(get(raw, "env")) {
				name := str(get(e, "name"))
				switch {
				case get(e, "valueFrom", "secretKeyRef") != nil:
					ref := get(e, "valueFrom", "secretKeyRef")
					if !secrets[str(get(ref, "name"))][str(get(ref, "key"))] {
						r.add(ct.where, "%s: no key %q in Secret %q", name, str(get(ref, "key")), str(get(ref, "name")))
					}
					ct.env[name] = envValue{source: "secret"}
				case get(e, "valueFrom", "configMapKeyRef") != nil:
					ref := get(e, "valueFrom", "configMapKeyRef")
					v, ok := configMaps[str(get(ref, "name"))][str(get(ref, "key"))]
					if !ok {
						r.add(ct.where, "%s: no key %q in ConfigMap %q", name, str(get(ref, "key")), str(get(ref, "name")))
					}
					ct.env[name] = envValue{value: v, source: "configmap"}
				default:
					ct.env[name] = envValue{value: str(get(e, "value")), source: "literal"}
				}
			}
			for _, p := range list(get(raw, "ports")) {
				n, _ := get(p, "containerPort").(int)
				ct.ports = append(ct.ports, containerPort{name: str(get(p, "name")), number: n})
				pd.nums[n] = true
				if name := str(get(p, "name")); name != "" {
					pd.ports[name] = n
				}
			}
			for _, k := range []string{"readiness", "liveness", "startup"} {
				pr := get(raw, k+"Probe")
				if pr == nil {
					continue
				}
				if hg := get(pr, "httpGet"); hg != nil {
					ct.probes = append(ct.probes, probe{kind: k, path: str(get(hg, "path")), port: get(hg, "port"), scheme: str(get(hg, "scheme"))})
				} else if isLienthong(ct.image) {
					r.add(ct.where, "%s probe: use httpGet on /healthz or /readyz", k)
				}
			}
			for _, k := range []string{"requests", "limits"} {
				if get(ct.resources, k, "memory") == nil || (k == "requests" && get(ct.resources, k, "cpu") == nil) {
					r.add(ct.where, "resources.%s: set cpu and memory", k)
				}
			}
			if !isLienthong(ct.image) && (!strings.Contains(strings.TrimPrefix(ct.image, repoOf(ct.image)), ":") || strings.HasSuffix(ct.image, ":latest")) {
				r.add(ct.where, "image %s: pin a version", ct.image)
			}
			if p := c.checkContainer(ct, r); p != nil {
				procs = append(procs, p)
			}
		}
		pods = append(pods, pd)
	}

	for _, d := range docs {
		switch d.kind() {
		case "Service":
			sel := mapping(get(d.obj, "spec", "selector"))
			var matched []pod
			for _, p := range pods {
				if selects(sel, p.labels) {
					matched = append(matched, p)
				}
			}
			if len(matched) == 0 {
				r.add(d.where(), "selector %v matches no pod template", sel)
				continue
			}
			served := map[int]bool{}
			for _, sp := range list(get(d.obj, "spec", "ports")) {
				port, _ := get(sp, "port").(int)
				served[port] = true
				target := get(sp, "targetPort")
				if target == nil {
					target = port
				}
				for _, p := range matched {
					var ok bool
					switch t := target.(type) {
					case int:
						ok = p.nums[t]
					case string:
						_, ok = p.ports[t]
					}
					if !ok {
						r.add(d.where(), "port %d: targetPort %v is not a container port of %s", port, target, p.where)
					}
				}
			}
			services[d.name()] = served
		case "PodDisruptionBudget":
			sel := mapping(get(d.obj, "spec", "selector", "matchLabels"))
			if !slices.ContainsFunc(pods, func(p pod) bool { return selects(sel, p.labels) }) {
				r.add(d.where(), "selector %v matches no pod template", sel)
			}
		}
	}
	checkShared("kubernetes envFrom", procs, r)
	checkDials(procs, services, r)
	return r.errs, procs
}

func readKubernetes(t *testing.T, dir string) (docs []k8sDoc, kustomizations []k8sDoc) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return err
		}
		if filepath.Base(p) == "temporal-values.yaml" {
			return nil // Helm values, checked on their own
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		objs, err := decodeAll(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, o := range objs {
			d := k8sDoc{file: p, obj: o}
			if d.kind() == "Kustomization" {
				kustomizations = append(kustomizations, d)
			} else {
				docs = append(docs, d)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return docs, kustomizations
}

// agencyPlaceholder is config.AgencyPlaceholder, spelled as deployments spell it.
const agencyPlaceholder = "{agency}"

// checkTransport: every lienthong part but migrate runs mutual TLS, with
// its certificate, key and CA on mounted secrets; the certificate names the
// identity the part needs (where cert-manager says so); nothing asks for
// plaintext.
func (c *checker) checkTransport(ct container, role string, eff map[string]string, r *report) {
	if role == "migrate" {
		return
	}
	if v, err := strconv.ParseBool(eff["LIENTHONG_INSECURE_PLAINTEXT"]); err == nil && v {
		r.add(ct.where, "LIENTHONG_INSECURE_PLAINTEXT: a deployment never runs plaintext")
		return
	}
	for _, s := range []string{"LIENTHONG_TLS_CERT_FILE", "LIENTHONG_TLS_KEY_FILE", "LIENTHONG_TLS_CA_FILE"} {
		if eff[s] == "" {
			r.add(ct.where, "%s runs without TLS: set %s (docs/deploy.md)", role, s)
			return
		}
	}
	// Who the certificate must name, by the placeholder's expansion.
	want := map[string]string{"": "lienthong://engine"}
	switch role {
	case "temporal":
		want = map[string]string{"": "lienthong://temporal"}
	case "agency":
		want = map[string]string{}
		name := eff["LIENTHONG_AGENCY_NAME"]
		for a := range agencyListen {
			if a != "mail" && (name == "all" || name == a) {
				want[a] = "lienthong://agency/" + a
			}
		}
		if len(want) > 1 && !strings.Contains(eff["LIENTHONG_TLS_CERT_FILE"], agencyPlaceholder) {
			r.add(ct.where, "LIENTHONG_TLS_CERT_FILE: runs %d agencies; each needs its own certificate, through %s in the path", len(want), agencyPlaceholder)
		}
	}
	var files []string
	for k, v := range eff {
		if strings.HasPrefix(k, "LIENTHONG_") && strings.Contains(k, "TLS_") && strings.HasSuffix(k, "_FILE") && v != "" {
			files = append(files, k)
		}
	}
	slices.Sort(files)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		for _, k := range files {
			p := strings.ReplaceAll(eff[k], agencyPlaceholder, name)
			if !ct.secretFiles[p] {
				r.add(ct.where, "%s=%s: no secret is mounted at %s", k, eff[k], p)
			}
		}
		cert := strings.ReplaceAll(eff["LIENTHONG_TLS_CERT_FILE"], agencyPlaceholder, name)
		if got, ok := ct.identities[cert]; ok && got != want[name] {
			r.add(ct.where, "LIENTHONG_TLS_CERT_FILE=%s: the certificate names %s; %s needs %s", cert, got, role, want[name])
		}
	}
}

// --- Compose ----------------------------------------------------------------

// knownPorts are what the third-party images listen on.
var knownPorts = map[string][]int{
	"postgres":      {5432},
	"temporalio/ui": {8080},
}

func parseEnvFile(b []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %q: expected KEY=value", line)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, sc.Err()
}

// containerPortOf reads the container side of a compose port: "7480",
// "127.0.0.1:7480-7481:7480", "7400/tcp" or {target: 7480}.
func containerPortsOf(v any) []int {
	if m := mapping(v); m != nil {
		n, _ := m["target"].(int)
		return []int{n}
	}
	s := str(v)
	s = s[strings.LastIndex(s, ":")+1:]
	s, _, _ = strings.Cut(s, "/")
	lo, hi, isRange := strings.Cut(s, "-")
	a, _ := strconv.Atoi(lo)
	if !isRange {
		return []int{a}
	}
	b, _ := strconv.Atoi(hi)
	var out []int
	for n := a; n <= b; n++ {
		out = append(out, n)
	}
	return out
}

// checkCompose checks one compose file; readFile reads files it refers to
// (env files), relative to the compose file. It returns the findings and
// the lienthong processes it found.
func (c *checker) checkCompose(where string, data []byte, readFile func(string) ([]byte, error)) ([]string, []*process) {
	r := &report{}
	docs, err := decodeAll(data)
	if err != nil || len(docs) != 1 {
		r.add(where, "not one YAML document: %v", err)
		return r.errs, nil
	}
	doc := docs[0]
	topSecrets := mapping(doc["secrets"])
	services := map[string]map[int]bool{}
	var procs []*process
	for name, raw := range mapping(doc["services"]) {
		ct := container{
			where: fmt.Sprintf("%s: service %s", where, name),
			image: str(get(raw, "image")),
			argv:  append(strs(get(raw, "entrypoint")), strs(get(raw, "command"))...),
			env:   map[string]envValue{},
		}
		for _, f := range strs(get(raw, "env_file")) {
			b, err := readFile(f)
			if err != nil {
				r.add(ct.where, "env_file %s: %v", f, err)
				continue
			}
			vars, err := parseEnvFile(b)
			if err != nil {
				r.add(ct.where, "env_file %s: %v", f, err)
			}
			for k, v := range vars {
				ct.env[k] = envValue{value: v, source: "env file", shared: true}
			}
		}
		switch env := get(raw, "environment").(type) {
		case map[string]any:
			for k, v := range env {
				ct.env[k] = envValue{value: str(v), source: "literal"}
			}
		case []any:
			for _, e := range env {
				k, v, _ := strings.Cut(str(e), "=")
				ct.env[k] = envValue{value: v, source: "literal"}
			}
		}
		ct.secretFiles = map[string]bool{}
		for _, s := range list(get(raw, "secrets")) {
			src, target := str(s), str(s)
			if m := mapping(s); m != nil {
				src, target = str(m["source"]), str(m["target"])
				if target == "" {
					target = src
				}
			}
			if _, ok := topSecrets[src]; !ok {
				r.add(ct.where, "secret %q: not declared under secrets:", src)
			}
			if !strings.HasPrefix(target, "/") {
				target = "/run/secrets/" + target
			}
			ct.secretFiles[target] = true
		}
		served := map[int]bool{}
		for _, p := range append(list(get(raw, "ports")), list(get(raw, "expose"))...) {
			for _, n := range containerPortsOf(p) {
				ct.ports = append(ct.ports, containerPort{number: n})
				served[n] = true
			}
		}
		if p := c.checkContainer(ct, r); p != nil {
			procs = append(procs, p)
			for n := range p.listening {
				served[n] = true
			}
		} else {
			for _, n := range knownPorts[repoOf(ct.image)] {
				served[n] = true
			}
			if strings.HasPrefix(repoOf(ct.image), "temporalio/") {
				if a := ct.env["TEMPORAL_ADDRESS"].value; a != "" {
					procs = append(procs, &process{dials: []dial{{where: ct.where, setting: "TEMPORAL_ADDRESS", addr: a}}})
				}
			}
		}
		services[name] = served
		for dep := range mapping(get(raw, "depends_on")) {
			if _, ok := mapping(doc["services"])[dep]; !ok {
				r.add(ct.where, "depends_on %s: no such service", dep)
			}
		}
	}
	checkShared(where+" env_file", procs, r)
	checkDials(procs, services, r)
	var own []*process
	for _, p := range procs {
		if p.role != "" {
			own = append(own, p)
		}
	}
	return r.errs, own
}

// rolesOf lists the roles of procs, sorted and unique.
func rolesOf(procs []*process) []string {
	var out []string
	for _, p := range procs {
		if !slices.Contains(out, p.role) {
			out = append(out, p.role)
		}
	}
	slices.Sort(out)
	return out
}

// saPair is a Name=Type word in the search-attribute Job's script.
var saPair = regexp.MustCompile(`\b(\w+)=(Keyword|KeywordList|Text|Int|Double|Bool|Datetime)\b`)

// --- the tests --------------------------------------------------------------

func TestDeployMatchesBinary(t *testing.T) {
	c := newChecker(t)
	goMod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	require.NoError(t, err)
	serverVersion := regexp.MustCompile(`(?m)^\s*go\.temporal\.io/server v(\S+)`).FindSubmatch(goMod)
	require.NotNil(t, serverVersion, "go.temporal.io/server in go.mod")

	values := readHelmValues(t, filepath.Join("kubernetes", "temporal-values.yaml"))
	k8sDocs, kustomizations := readKubernetes(t, "kubernetes")

	t.Run("kubernetes", func(t *testing.T) {
		frontend := str(values["fullnameOverride"]) + "-frontend"
		port, _ := get(values, "server", "frontend", "service", "port").(int)
		require.Equal(t, "temporal-frontend", frontend, "fullnameOverride fixes the frontend's Service name")
		require.NotZero(t, port, "server.frontend.service.port")
		errs, procs := c.checkKubernetes(k8sDocs, map[string]map[int]bool{frontend: {port: true}})
		require.Empty(t, errs, "\n"+strings.Join(errs, "\n"))
		require.Equal(t, []string{"agency", "api", "migrate", "worker"}, rolesOf(procs), "the roles the manifests run")

		for _, k := range kustomizations {
			dir := filepath.Dir(k.file)
			for _, res := range strs(get(k.obj, "resources")) {
				_, err := os.Stat(filepath.Join(dir, res))
				require.NoError(t, err, "%s lists %s", k.file, res)
			}
			for _, img := range list(get(k.obj, "images")) {
				if isLienthong(str(get(img, "name"))) {
					require.Equal(t, lienthongImage, str(get(img, "name")), k.file)
				}
			}
		}
	})

	t.Run("compose", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join("compose", "*.yaml"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			errs, procs := c.checkCompose(f, b, func(name string) ([]byte, error) {
				return os.ReadFile(filepath.Join(filepath.Dir(f), name))
			})
			require.Empty(t, errs, "\n"+strings.Join(errs, "\n"))
			require.Equal(t, []string{"agency", "api", "migrate", "temporal", "worker"}, rolesOf(procs), "the roles %s runs", f)
		}
	})

	t.Run("dockerfile", func(t *testing.T) {
		b, err := os.ReadFile("Dockerfile")
		require.NoError(t, err)
		want := map[int]bool{}
		for _, s := range []string{"LIENTHONG_TEMPORAL_PORT", "LIENTHONG_API_GRPC_ADDR", "LIENTHONG_API_HTTP_ADDR",
			"LIENTHONG_WORKER_HTTP_ADDR", "LIENTHONG_AGENCY_HTTP_ADDR", "LIENTHONG_JUSTICE_ADDR",
			"LIENTHONG_POLICE_ADDR", "LIENTHONG_INSURANCE_ADDR", "LIENTHONG_PORTAL_ADDR",
			"LIENTHONG_SMS_ADDR", "LIENTHONG_SMTP_ADDR"} {
			d := c.defaults[s]
			if _, p, err := hostPort(d); err == nil {
				want[p] = true
			} else if n, err := strconv.Atoi(d); err == nil {
				want[n] = true
			} else {
				t.Fatalf("default of %s is %q", s, d)
			}
		}
		got := map[int]bool{}
		var user, entrypoint, goImage string
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			switch strings.ToUpper(fields[0]) {
			case "EXPOSE":
				for _, f := range fields[1:] {
					n, err := strconv.Atoi(strings.TrimSuffix(f, "/tcp"))
					require.NoError(t, err, line)
					got[n] = true
				}
			case "USER":
				user = fields[1]
			case "ENTRYPOINT":
				entrypoint = line
			case "FROM":
				if strings.HasPrefix(fields[1], "golang:") {
					goImage = fields[1]
				}
			}
		}
		require.Equal(t, ports(want), ports(got), "EXPOSE should list exactly the roles' default ports")
		require.NotEmpty(t, user)
		require.NotContains(t, []string{"root", "0", "0:0"}, user, "the final stage runs as a non-root user")
		require.Contains(t, entrypoint, "lienthong\"]")
		goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
		require.NotNil(t, goVersion)
		require.Equal(t, "golang:"+string(goVersion[1]), goImage, "the builder's Go matches go.mod")
	})

	t.Run("temporal helm values", func(t *testing.T) {
		p := get(values, "server", "config", "persistence")
		shards, ok := get(p, "numHistoryShards").(int)
		require.True(t, ok, "numHistoryShards is set")
		require.True(t, shards > 0 && shards&(shards-1) == 0, "numHistoryShards %d is a power of two", shards)
		stores := map[string]string{}
		for _, s := range []string{str(get(p, "defaultStore")), str(get(p, "visibilityStore"))} {
			sql := get(p, "datastores", s, "sql")
			require.NotNil(t, sql, "datastore %s is SQL", s)
			require.Contains(t, []string{"postgres12", "postgres12_pgx"}, str(get(sql, "pluginName")), s)
			stores[s] = str(get(sql, "databaseName"))
		}
		require.Len(t, stores, 2, "two stores")
		require.NotEqual(t, stores[str(get(p, "defaultStore"))], stores[str(get(p, "visibilityStore"))], "two databases")
		require.Equal(t, string(serverVersion[1]), str(get(values, "server", "image", "tag")), "server image matches go.mod")
		require.Equal(t, string(serverVersion[1]), str(get(values, "admintools", "image", "tag")), "admin-tools image matches go.mod")

		var cm map[string]any
		for _, d := range k8sDocs {
			if d.kind() == "ConfigMap" && d.name() == "lienthong-config" {
				cm = mapping(d.obj["data"])
			}
		}
		require.NotNil(t, cm)
		var namespaces []string
		for _, ns := range list(get(values, "server", "config", "namespaces", "namespace")) {
			namespaces = append(namespaces, str(get(ns, "name")))
		}
		require.Equal(t, true, get(values, "server", "config", "namespaces", "create"))
		require.Contains(t, namespaces, str(cm["LIENTHONG_TEMPORAL_NAMESPACE"]))
		for _, d := range k8sDocs {
			for _, ct := range list(get(podTemplate(d), "spec", "containers")) {
				if img := str(get(ct, "image")); strings.HasPrefix(img, "temporalio/admin-tools:") {
					require.Equal(t, "temporalio/admin-tools:"+string(serverVersion[1]), img, d.where())
				}
			}
		}
	})

	t.Run("search attributes job matches package workflows", func(t *testing.T) {
		want := map[string]string{}
		for name, typ := range workflows.SearchAttributes() {
			want[name] = typ.String()
		}
		got := map[string]string{}
		for _, d := range k8sDocs {
			if d.name() != "lienthong-temporal-setup" {
				continue
			}
			for _, ct := range list(get(podTemplate(d), "spec", "containers")) {
				script := strings.Join(strs(get(ct, "args")), "\n")
				for _, m := range saPair.FindAllStringSubmatch(script, -1) {
					got[m[1]] = m[2]
				}
			}
		}
		require.Equal(t, want, got)
	})

	t.Run("drift is reported", func(t *testing.T) {
		drifted := `
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  LIENTHONG_TEMPORAL_ADRESS: temporal-frontend:7233
  LIENTHONG_TOKEN_KEY: c2VjcmV0
  LIENTHONG_SEED_PEOPLE: "100"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: ghcr.io/lienthong/lienthong:1.0
          args: ["api", "--grpc-port", "7400"]
          envFrom: [{configMapRef: {name: cfg}}]
          env:
            - {name: LIENTHONG_BOGUS, value: "1"}
            - {name: LIENTHONG_API_HTTP_ADDR, value: "127.0.0.1:7480"}
            - {name: LIENTHONG_LOG_LEVEL_FILE, value: /x}
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /health, port: http}}
          resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}
        - name: other
          image: lienthong/lienthong:1.0
          args: ["serve"]
          resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{name: grpc, port: 7400, targetPort: grpc}]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: justice}
spec: {secretName: justice-tls, uris: ["lienthong://agency/police"], usages: [server auth]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: agency}
spec:
  selector: {matchLabels: {app: agency}}
  template:
    metadata: {labels: {app: agency}}
    spec:
      containers:
        - name: agency
          image: ghcr.io/lienthong/lienthong:1.0
          args: ["agency", "--name", "justice"]
          env:
            - {name: LIENTHONG_TLS_CERT_FILE, value: /tls/tls.crt}
            - {name: LIENTHONG_TLS_KEY_FILE, value: /tls/tls.key}
            - {name: LIENTHONG_TLS_CA_FILE, value: /ca/ca.crt}
            - {name: LIENTHONG_AGENCY_HTTP_ADDR, value: "0.0.0.0:7495"}
            - {name: LIENTHONG_JUSTICE_ADDR, value: "0.0.0.0:7401"}
          ports: [{name: http, containerPort: 7495}]
          readinessProbe: {httpGet: {path: /readyz, port: http}}
          livenessProbe: {httpGet: {path: /healthz, port: http, scheme: HTTPS}}
          resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}
          volumeMounts: [{name: tls, mountPath: /tls}]
      volumes: [{name: tls, secret: {secretName: justice-tls}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
        - name: worker
          image: ghcr.io/lienthong/lienthong:1.0
          args: ["worker", "--insecure-plaintext", "--lookup-floor", "1s"]
          resources: {requests: {cpu: 1, memory: 1Gi}, limits: {memory: 1Gi}}
`
		var docs []k8sDoc
		objs, err := decodeAll([]byte(drifted))
		require.NoError(t, err)
		for _, o := range objs {
			docs = append(docs, k8sDoc{file: "drifted.yaml", obj: o})
		}
		found, _ := c.checkKubernetes(docs, nil)
		errs := strings.Join(found, "\n")
		for _, want := range []string{
			"LIENTHONG_TEMPORAL_ADRESS: no such setting in config",
			"LIENTHONG_TOKEN_KEY: a secret in a ConfigMap",
			"LIENTHONG_BOGUS: no such setting in config",
			"LIENTHONG_LOG_LEVEL_FILE: LIENTHONG_LOG_LEVEL is not a secret",
			"flag --grpc-port: api takes no such flag",
			"flag --lookup-floor: worker takes no such flag",
			"LIENTHONG_SEED_PEOPLE: shared with api, and none of them reads it",
			"LIENTHONG_API_HTTP_ADDR binds 127.0.0.1",
			"port 8080: api listens on",
			`readiness probe path "/health"`,
			"no liveness probe",
			"image lienthong/lienthong:1.0: lienthong's image is " + lienthongImage,
			`subcommand "serve": not one of lienthong's subcommands`,
			"targetPort grpc is not a container port",
			"LIENTHONG_TEMPORAL_ADDRESS=127.0.0.1:7233: loopback",
			"api runs without TLS: set LIENTHONG_TLS_CERT_FILE",
			"usages [server auth]: a part both serves and calls",
			"LIENTHONG_TLS_CERT_FILE=/tls/tls.crt: the certificate names lienthong://agency/police; agency needs lienthong://agency/justice",
			"LIENTHONG_TLS_CA_FILE=/ca/ca.crt: no secret is mounted at /ca/ca.crt",
			"readiness probe: agency serves health over TLS; set scheme: HTTPS",
			"LIENTHONG_INSECURE_PLAINTEXT: a deployment never runs plaintext",
		} {
			require.Contains(t, errs, want)
		}

		compose := `
services:
  worker:
    image: ghcr.io/lienthong/lienthong
    command: ["worker"]
    environment:
      LIENTHONG_WORKER_HTTP_ADDR: 0.0.0.0:7490
      LIENTHONG_TEMPORAL_ADDRESS: temporal:7233
      LIENTHONG_JUSTICE_ADDR: agency:7409
      LIENTHONG_CODEC_KEY: c2VjcmV0
      LIENTHONG_FROB: "1"
      LIENTHONG_LOOKUP_FLOOR: 1s
    expose: ["7491"]
`
		found, _ = c.checkCompose("drifted-compose.yaml", []byte(compose), os.ReadFile)
		errs = strings.Join(found, "\n")
		for _, want := range []string{
			"LIENTHONG_FROB: no such setting in config",
			"LIENTHONG_LOOKUP_FLOOR: worker does not read it",
			"LIENTHONG_CODEC_KEY: a secret set in plain text",
			"port 7491: worker listens on 7490",
			`LIENTHONG_TEMPORAL_ADDRESS=temporal:7233: no service "temporal"`,
			`LIENTHONG_JUSTICE_ADDR=agency:7409: no service "agency"`,
			"LIENTHONG_POLICE_ADDR=127.0.0.1:7402: loopback",
		} {
			require.Contains(t, errs, want)
		}
	})
}

func readHelmValues(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, yaml.Unmarshal(b, &v))
	return v
}

// TestComposeWebUIDecodes checks that the compose Web UI decodes histories:
// it names the API's codec endpoint on the port compose publishes, sends
// the console's session cookie, and the API grants CORS to exactly the
// origin compose publishes the UI on.
func TestComposeWebUIDecodes(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("compose", "docker-compose.yaml"))
	require.NoError(t, err)
	var doc struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	ui, apiSvc := doc.Services["temporal-ui"], doc.Services["api"]
	published := func(ports []string, container string) string {
		for _, p := range ports {
			if i := strings.LastIndex(p, ":"); i > 0 && p[i+1:] == container {
				return p[:i]
			}
		}
		return ""
	}
	uiHost := published(ui.Ports, "8080")
	require.NotEmpty(t, uiHost, "the UI's published port")
	require.Equal(t, "http://"+uiHost, apiSvc.Environment["LIENTHONG_CODEC_CORS_ORIGINS"], "the API allows the UI's origin")
	endpoint := ui.Environment["TEMPORAL_CODEC_ENDPOINT"]
	require.True(t, strings.HasSuffix(endpoint, "/codec"), endpoint)
	apiHTTP := strings.Split(published(apiSvc.Ports, "7480"), "-")[0]
	require.NotEmpty(t, apiHTTP)
	require.Equal(t, "https://"+apiHTTP+"/codec", endpoint, "the codec endpoint is the API's published HTTPS port")
	require.Equal(t, "true", ui.Environment["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"], "the console's session cookie goes along")
}

// TestComposeSecrets runs secrets.sh in a scratch copy: it makes every
// secret compose declares, twice is harmless, and each certificate loads
// with its key, is issued by the CA, and names the identity of the parts
// that mount it.
func TestComposeSecrets(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("secrets.sh needs openssl")
	}
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("compose", "secrets.sh"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secrets.sh"), script, 0o755))
	for range 2 {
		out, err := exec.Command("sh", filepath.Join(dir, "secrets.sh")).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	b, err := os.ReadFile(filepath.Join("compose", "docker-compose.yaml"))
	require.NoError(t, err)
	var doc struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	file := map[string]string{}
	for name, sec := range doc.Secrets {
		p := filepath.Join(dir, sec.File)
		_, err := os.Stat(p)
		require.NoError(t, err, "secrets.sh makes no file for secret %s", name)
		file["/run/secrets/"+name] = p
	}
	for name, svc := range doc.Services {
		env := svc.Environment
		if env["LIENTHONG_TLS_CERT_FILE"] == "" {
			continue
		}
		want := map[string]pki.Identity{"": pki.Engine()}
		switch svc.Command[0] {
		case "temporal":
			want = map[string]pki.Identity{"": pki.Temporal()}
		case "agency":
			want = map[string]pki.Identity{}
			for a := range agencyListen {
				if a != "mail" {
					want[a] = pki.Agency(a)
				}
			}
		}
		for agency, id := range want {
			at := func(k string) string { return file[strings.ReplaceAll(env[k], agencyPlaceholder, agency)] }
			src, err := pki.Load(pki.Files{Cert: at("LIENTHONG_TLS_CERT_FILE"), Key: at("LIENTHONG_TLS_KEY_FILE"), CA: at("LIENTHONG_TLS_CA_FILE")}, nil)
			require.NoError(t, err, "service %s %s", name, agency)
			require.Equal(t, id, src.Identity(), "service %s %s", name, agency)
			require.NoError(t, src.Leaf().VerifyHostname(name), "service %s is reached as %s", name, name)
		}
	}
}
