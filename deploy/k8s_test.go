// Package deploy holds the deployment files (compose, Kubernetes, env
// templates, ops scripts) and, in this test, the checks that they work as
// written: no Docker engine or cluster is needed, only the manifests.
package deploy

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/vitalgraph/vitalgraph/server"
)

// rendered is one kustomization rendered like `kubectl kustomize` and
// decoded strictly into the k8s.io/api types.
type rendered struct {
	deployments  map[string]*appsv1.Deployment
	jobs         map[string]*batchv1.Job
	cronJobs     map[string]*batchv1.CronJob
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	hpas         map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs         map[string]*policyv1.PodDisruptionBudget
	netpols      map[string]*networkingv1.NetworkPolicy
	ingresses    map[string]*networkingv1.Ingress
	pvcs         map[string]*corev1.PersistentVolumeClaim
	secrets      int
	namespaces   []string
	objectsTotal int
}

// strict decodes one object's YAML into out; unknown fields fail.
func strict(t *testing.T, doc []byte, out any) {
	t.Helper()
	j, err := yaml.YAMLToJSON(doc)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(out), "strict decode of:\n%s", doc)
}

// kustomizeMu serializes kustomize runs: kyaml initializes its OpenAPI
// schema in package globals without synchronization (a data race under
// -race when overlays render in parallel subtests).
var kustomizeMu sync.Mutex

func render(t *testing.T, dir string) rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	kustomizeMu.Lock()
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	kustomizeMu.Unlock()
	require.NoError(t, err, "kustomize build %s", dir)
	r := rendered{
		deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{},
		cronJobs: map[string]*batchv1.CronJob{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, netpols: map[string]*networkingv1.NetworkPolicy{},
		ingresses: map[string]*networkingv1.Ingress{}, pvcs: map[string]*corev1.PersistentVolumeClaim{},
	}
	for _, res := range m.Resources() {
		doc, err := res.AsYAML()
		require.NoError(t, err)
		r.objectsTotal++
		name := res.GetName()
		switch gvk := res.GetGvk(); gvk.ApiVersion() + "/" + gvk.Kind {
		case "apps/v1/Deployment":
			o := &appsv1.Deployment{}
			strict(t, doc, o)
			r.deployments[name] = o
		case "batch/v1/Job":
			o := &batchv1.Job{}
			strict(t, doc, o)
			r.jobs[name] = o
		case "batch/v1/CronJob":
			o := &batchv1.CronJob{}
			strict(t, doc, o)
			r.cronJobs[name] = o
		case "v1/Service":
			o := &corev1.Service{}
			strict(t, doc, o)
			r.services[name] = o
		case "v1/ConfigMap":
			o := &corev1.ConfigMap{}
			strict(t, doc, o)
			r.configMaps[name] = o
		case "v1/ServiceAccount":
			o := &corev1.ServiceAccount{}
			strict(t, doc, o)
			require.NotNil(t, o.AutomountServiceAccountToken)
			require.False(t, *o.AutomountServiceAccountToken, "no API token in pods")
		case "v1/PersistentVolumeClaim":
			o := &corev1.PersistentVolumeClaim{}
			strict(t, doc, o)
			r.pvcs[name] = o
		case "v1/Namespace":
			o := &corev1.Namespace{}
			strict(t, doc, o)
			require.Equal(t, "restricted", o.Labels["pod-security.kubernetes.io/enforce"], "namespace %s enforces the restricted pod security standard", name)
			r.namespaces = append(r.namespaces, name)
		case "v1/Secret":
			r.secrets++
		case "autoscaling/v2/HorizontalPodAutoscaler":
			o := &autoscalingv2.HorizontalPodAutoscaler{}
			strict(t, doc, o)
			r.hpas[name] = o
		case "policy/v1/PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			strict(t, doc, o)
			r.pdbs[name] = o
		case "networking.k8s.io/v1/NetworkPolicy":
			o := &networkingv1.NetworkPolicy{}
			strict(t, doc, o)
			r.netpols[name] = o
		case "networking.k8s.io/v1/Ingress":
			o := &networkingv1.Ingress{}
			strict(t, doc, o)
			r.ingresses[name] = o
		default:
			t.Fatalf("%s: %s %s has no decoder in this test: add one", dir, gvk, name)
		}
	}
	return r
}

// pods lists every pod template of the rendering by owner.
func (r rendered) pods() map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for n, d := range r.deployments {
		out["Deployment/"+n] = d.Spec.Template
	}
	for n, j := range r.jobs {
		out["Job/"+n] = j.Spec.Template
	}
	for n, c := range r.cronJobs {
		out["CronJob/"+n] = c.Spec.JobTemplate.Spec.Template
	}
	return out
}

func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"k8s/base", "k8s/overlays/staging", "k8s/overlays/production"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			r := render(t, dir)
			require.Zero(t, r.secrets, "secrets are references: no Secret objects (and so no values) in the manifests")
			for _, want := range []string{"vitalgraph-api", "vitalgraph-worker"} {
				require.Contains(t, r.deployments, want)
			}
			require.Contains(t, r.jobs, "vitalgraph-migrate")
			require.Contains(t, r.cronJobs, "vitalgraph-backup")
			if dir != "k8s/base" {
				require.Len(t, r.namespaces, 1, "an overlay creates its namespace")
			}

			pods := r.pods()
			require.Len(t, pods, 4)
			for owner, p := range pods {
				checkPodSecurity(t, owner, p.Spec)
			}
			checkAPI(t, r)
			checkSelectors(t, r)
			checkBackup(t, r)
			checkImportSpool(t, r)
			checkEnvSources(t, r)
		})
	}
}

// checkPodSecurity: non-root, no privilege escalation, read-only root
// filesystem, every capability dropped, RuntimeDefault seccomp, no API
// token, and requests and limits for CPU and memory on every container.
func checkPodSecurity(t *testing.T, owner string, s corev1.PodSpec) {
	t.Helper()
	require.NotNil(t, s.AutomountServiceAccountToken, owner)
	require.False(t, *s.AutomountServiceAccountToken, owner)
	psc := s.SecurityContext
	require.NotNil(t, psc, owner)
	require.NotNil(t, psc.RunAsNonRoot, owner)
	require.True(t, *psc.RunAsNonRoot, owner)
	require.NotNil(t, psc.RunAsUser, owner)
	require.NotZero(t, *psc.RunAsUser, "%s runs as a non-zero uid", owner)
	require.NotNil(t, psc.SeccompProfile, owner)
	require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type, owner)
	require.NotEmpty(t, s.Containers, owner)
	for _, c := range append(slices.Clone(s.InitContainers), s.Containers...) {
		where := owner + "/" + c.Name
		require.NotEmpty(t, c.Image, where)
		sc := c.SecurityContext
		require.NotNil(t, sc, where)
		require.NotNil(t, sc.AllowPrivilegeEscalation, where)
		require.False(t, *sc.AllowPrivilegeEscalation, where)
		require.NotNil(t, sc.ReadOnlyRootFilesystem, where)
		require.True(t, *sc.ReadOnlyRootFilesystem, where)
		require.NotNil(t, sc.RunAsNonRoot, where)
		require.True(t, *sc.RunAsNonRoot, where)
		require.Nil(t, sc.Privileged, where)
		require.NotNil(t, sc.Capabilities, where)
		require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, where)
		require.Empty(t, sc.Capabilities.Add, where)
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := c.Resources.Requests[res]
			lim, okLim := c.Resources.Limits[res]
			require.True(t, okReq, "%s requests %s", where, res)
			require.True(t, okLim, "%s limits %s", where, res)
			require.LessOrEqual(t, req.Cmp(lim), 0, "%s: %s request ≤ limit", where, res)
		}
		for _, m := range c.VolumeMounts {
			require.True(t, slices.ContainsFunc(s.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }),
				"%s mounts volume %q that the pod declares", where, m.Name)
		}
	}
}

// checkAPI: probes on /readyz and /healthz against the listen port, a
// grace period longer than the drain, and the api Service on that port.
func checkAPI(t *testing.T, r rendered) {
	t.Helper()
	d := r.deployments["vitalgraph-api"]
	spec := d.Spec.Template.Spec
	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	require.Equal(t, []string{"serve"}, c.Args)
	env := containerEnv(t, r, c)
	port := 8080
	if _, p, ok := strings.Cut(env["ADDR"], ":"); ok {
		n, err := strconv.Atoi(p)
		require.NoError(t, err)
		port = n
	}
	require.Len(t, c.Ports, 2, "the serving port and the private metrics port")
	require.Equal(t, int32(port), c.Ports[0].ContainerPort, "containerPort is the port of ADDR")
	named := c.Ports[0].Name
	// The metrics port is METRICS_ADDR's, never the serving one, and no
	// Service exposes it.
	_, mp, ok := strings.Cut(env["METRICS_ADDR"], ":")
	require.True(t, ok, "METRICS_ADDR is set")
	metricsPort, err := strconv.Atoi(mp)
	require.NoError(t, err)
	require.Equal(t, "metrics", c.Ports[1].Name)
	require.Equal(t, int32(metricsPort), c.Ports[1].ContainerPort, "the metrics containerPort is the port of METRICS_ADDR")
	require.NotEqual(t, port, metricsPort)
	for _, svc := range r.services {
		for _, sp := range svc.Spec.Ports {
			require.NotEqual(t, int32(metricsPort), sp.TargetPort.IntVal, "no Service exposes the metrics port")
			require.NotEqual(t, "metrics", sp.TargetPort.StrVal, "no Service exposes the metrics port")
		}
	}
	probe := func(p *corev1.Probe, path, what string) {
		require.NotNil(t, p, what)
		require.NotNil(t, p.HTTPGet, what)
		require.Equal(t, path, p.HTTPGet.Path, what)
		require.True(t, p.HTTPGet.Port.String() == named || p.HTTPGet.Port.IntValue() == port, "%s probes the serving port", what)
	}
	probe(c.ReadinessProbe, "/readyz", "readiness")
	probe(c.LivenessProbe, "/healthz", "liveness")
	if c.StartupProbe != nil {
		probe(c.StartupProbe, "/healthz", "startup")
	}
	drain := 15 * time.Second
	if s := env["SHUTDOWN_TIMEOUT"]; s != "" {
		var err error
		drain, err = time.ParseDuration(s)
		require.NoError(t, err)
	}
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	require.NotNil(t, spec.TerminationGracePeriodSeconds)
	require.Greater(t, time.Duration(*spec.TerminationGracePeriodSeconds)*time.Second, drain+preStop,
		"the pod is killed only after the drain (SHUTDOWN_TIMEOUT) and the preStop pause")

	svc := r.services["vitalgraph-api"]
	require.NotNil(t, svc)
	require.Len(t, svc.Spec.Ports, 1)
	tp := svc.Spec.Ports[0].TargetPort
	require.True(t, tp.String() == named || tp.IntValue() == port, "the Service targets the serving port")

	hpa := r.hpas["vitalgraph-api"]
	require.NotNil(t, hpa)
	require.Nil(t, d.Spec.Replicas, "the HPA owns the api's replica count: a deploy must not reset it")
	require.Equal(t, "Deployment", hpa.Spec.ScaleTargetRef.Kind)
	require.Contains(t, r.deployments, hpa.Spec.ScaleTargetRef.Name)
	require.NotNil(t, hpa.Spec.MinReplicas)
	require.GreaterOrEqual(t, *hpa.Spec.MinReplicas, int32(2), "at least two api replicas")
	require.GreaterOrEqual(t, hpa.Spec.MaxReplicas, *hpa.Spec.MinReplicas)
	require.Contains(t, r.pdbs, "vitalgraph-api")

	ing := r.ingresses["vitalgraph-api"]
	require.NotNil(t, ing, "TLS ends at an Ingress")
	require.NotEmpty(t, ing.Spec.TLS)
	require.Equal(t, svc.Name, ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name)
}

// checkSelectors: Service, PDB and NetworkPolicies select the pods they mean.
func checkSelectors(t *testing.T, r rendered) {
	t.Helper()
	apiPods := labels.Set(r.deployments["vitalgraph-api"].Spec.Template.Labels)
	workerPods := labels.Set(r.deployments["vitalgraph-worker"].Spec.Template.Labels)
	for n, d := range r.deployments {
		sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels)
		require.True(t, sel.Matches(labels.Set(d.Spec.Template.Labels)), "Deployment %s selects its own pods", n)
	}
	require.True(t, labels.SelectorFromSet(r.services["vitalgraph-api"].Spec.Selector).Matches(apiPods))
	require.False(t, labels.SelectorFromSet(r.services["vitalgraph-api"].Spec.Selector).Matches(workerPods), "the Service sends no traffic to workers")
	require.True(t, labels.SelectorFromSet(r.pdbs["vitalgraph-api"].Spec.Selector.MatchLabels).Matches(apiPods))

	var denyAll, apiIngress bool
	for _, np := range r.netpols {
		sel := labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels)
		if len(np.Spec.PodSelector.MatchLabels) == 0 && len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 &&
			slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			denyAll = true
		}
		if len(np.Spec.Ingress) == 0 {
			continue
		}
		if metricsOnly(np) {
			// Prometheus may reach every pod, on the metrics port only.
			require.True(t, sel.Matches(apiPods) && sel.Matches(workerPods), "metrics are scraped from api and worker pods (%s)", np.Name)
			continue
		}
		require.True(t, sel.Matches(apiPods), "only the api accepts connections (%s)", np.Name)
		require.False(t, sel.Matches(workerPods), "workers accept no connections but metrics scrapes (%s)", np.Name)
		apiIngress = true
	}
	require.True(t, denyAll, "a default-deny NetworkPolicy")
	require.True(t, apiIngress, "a NetworkPolicy lets the ingress controller reach the api")
}

// metricsOnly reports whether every ingress rule of np admits only the
// named port "metrics".
func metricsOnly(np *networkingv1.NetworkPolicy) bool {
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) == 0 {
			return false
		}
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.StrVal != "metrics" {
				return false
			}
		}
	}
	return true
}

// checkBackup: the CronJob runs `vitalgraph backup` (issue 16) one at a time
// onto a persistent volume.
func checkBackup(t *testing.T, r rendered) {
	t.Helper()
	cj := r.cronJobs["vitalgraph-backup"]
	require.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy)
	c := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	require.NotEmpty(t, c.Args)
	require.Equal(t, "backup", c.Args[0])
	require.Contains(t, c.Image, "vitalgraph-backup", "the image with pg_dump (Dockerfile --target backup)")
}

// checkEnvSources: every variable comes from a literal, the generated
// ConfigMap or a Secret reference, and names a known configuration key.
// checkImportSpool: an upload (importHealthData) is spooled by the api and
// imported by a worker, so both mount one ReadWriteMany claim at
// IMPORT_SPOOL_DIR (the root file system is read-only).
func checkImportSpool(t *testing.T, r rendered) {
	t.Helper()
	pvc := r.pvcs["vitalgraph-imports"]
	require.NotNil(t, pvc, "the upload spool's claim")
	require.Contains(t, pvc.Spec.AccessModes, corev1.ReadWriteMany, "api and worker pods on different nodes share it")
	for _, name := range []string{"vitalgraph-api", "vitalgraph-worker"} {
		spec := r.deployments[name].Spec.Template.Spec
		c := spec.Containers[0]
		dir := containerEnv(t, r, c)["IMPORT_SPOOL_DIR"]
		require.NotEmpty(t, dir, "%s: IMPORT_SPOOL_DIR is set", name)
		var vol string
		for _, m := range c.VolumeMounts {
			if m.MountPath == dir {
				require.False(t, m.ReadOnly, name)
				vol = m.Name
			}
		}
		require.NotEmpty(t, vol, "%s mounts a volume at %s", name, dir)
		var claim string
		for _, v := range spec.Volumes {
			if v.Name == vol && v.PersistentVolumeClaim != nil {
				claim = v.PersistentVolumeClaim.ClaimName
			}
		}
		require.Equal(t, "vitalgraph-imports", claim, "%s: the spool is the shared claim", name)
	}
}

func checkEnvSources(t *testing.T, r rendered) {
	t.Helper()
	for owner, p := range r.pods() {
		for _, c := range p.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom != nil {
					require.NotNil(t, e.ValueFrom.SecretKeyRef, "%s/%s %s: only Secret references", owner, c.Name, e.Name)
					require.True(t, strings.HasPrefix(e.ValueFrom.SecretKeyRef.Name, "vitalgraph-"), e.Name)
				}
			}
			for _, ef := range c.EnvFrom {
				require.NotNil(t, ef.ConfigMapRef, "%s/%s: envFrom only from the generated ConfigMap", owner, c.Name)
				require.Contains(t, r.configMaps, ef.ConfigMapRef.Name, "%s/%s: envFrom names a rendered ConfigMap", owner, c.Name)
			}
			for k := range containerEnv(t, r, c) {
				require.Contains(t, configTable(t), k, "%s/%s: %s is a variable of the README's configuration table", owner, c.Name, k)
			}
		}
	}
}

// secretPlaceholders stand in for the values of Secret references when the
// environment is fed to the configuration validation.
var secretPlaceholders = map[string]string{
	"DATABASE_URL": "postgres://vitalgraph:secret@db.internal:5432/vitalgraph?sslmode=require",
	"REDIS_URL":    "rediss://:secret@redis.internal:6379/0",
}

// containerEnv resolves a container's environment: the ConfigMaps of
// envFrom, then env (literals; Secret references as placeholders; optional
// references absent).
func containerEnv(t *testing.T, r rendered, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			cm := r.configMaps[ef.ConfigMapRef.Name]
			require.NotNil(t, cm, "ConfigMap %s", ef.ConfigMapRef.Name)
			for k, v := range cm.Data {
				env[ef.Prefix+k] = v
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Optional != nil && *e.ValueFrom.SecretKeyRef.Optional:
			// absent unless the operator sets it
		case e.ValueFrom.SecretKeyRef != nil:
			v, ok := secretPlaceholders[e.Name]
			require.True(t, ok, "add a placeholder for the secret %s", e.Name)
			env[e.Name] = v
		}
	}
	return env
}

// TestProductionOverlayConfig feeds the rendered production api's
// environment to the binary's own configuration validation: it starts only
// with a key ring from a mounted Secret, HTTPS behind trusted proxies and
// a listed (non-*) CORS origin set; removing any of them refuses to start.
func TestProductionOverlayConfig(t *testing.T) {
	t.Parallel()
	for _, overlay := range []string{"staging", "production"} {
		t.Run(overlay, func(t *testing.T) {
			t.Parallel()
			r := render(t, "k8s/overlays/"+overlay)
			for _, name := range []string{"vitalgraph-api", "vitalgraph-worker"} {
				d := r.deployments[name]
				c := d.Spec.Template.Spec.Containers[0]
				env := containerEnv(t, r, c)
				cfg, err := server.LoadConfig(mapEnv(env))
				require.NoError(t, err, "%s %s: the rendered environment passes LoadConfig", overlay, name)
				require.Equal(t, overlay, cfg.EnvMode)
				require.False(t, cfg.WorkerInProcess, "workers are their own Deployment")

				// The key ring is a file on a Secret volume, mounted whole so rotation reaches it.
				keys := cfg.Security.JWTKeysFile
				require.NotEmpty(t, keys)
				mount := mountOf(c, keys)
				require.NotNil(t, mount, "%s: JWT_KEYS_FILE %s is on a mounted volume", name, keys)
				require.True(t, mount.ReadOnly)
				require.Empty(t, mount.SubPath, "a subPath mount would never see a rotated key ring")
				vol := volumeOf(d.Spec.Template.Spec, mount.Name)
				rel := strings.TrimPrefix(strings.TrimPrefix(keys, mount.MountPath), "/")
				require.True(t, fromSecret(vol, rel), "%s: the key ring %s comes from a Secret", name, keys)

				// Audit checkpoint keys: one shared ring from a Secret, not a per-pod file.
				audit := cfg.AuditKeysFile
				require.NotEmpty(t, audit, "%s: AUDIT_KEYS_FILE is set (the default is a per-pod file)", name)
				amount := mountOf(c, audit)
				require.NotNil(t, amount, "%s: AUDIT_KEYS_FILE %s is on a mounted volume", name, audit)
				require.Empty(t, amount.SubPath)
				arel := strings.TrimPrefix(strings.TrimPrefix(audit, amount.MountPath), "/")
				require.True(t, fromSecret(volumeOf(d.Spec.Template.Spec, amount.Name), arel), "%s: the audit key ring comes from a Secret", name)

				// HTTPS: not plain, and a request is secure only through a trusted proxy.
				require.False(t, cfg.Security.AllowPlainHTTP)
				require.NotEmpty(t, cfg.Security.TrustedProxies, "TLS ends at the ingress: its addresses must be trusted")
				viaProxy := httptest.NewRequest("POST", "http://api/graphql", nil)
				viaProxy.RemoteAddr = firstTrusted(t, env["TRUSTED_PROXIES"]) + ":41234"
				viaProxy.Header.Set("X-Forwarded-Proto", "https")
				require.True(t, cfg.Security.TrustedProxies.Secure(viaProxy))
				direct := httptest.NewRequest("POST", "http://api/graphql", nil)
				direct.RemoteAddr = "203.0.113.9:41234"
				direct.Header.Set("X-Forwarded-Proto", "https")
				require.False(t, cfg.Security.TrustedProxies.Secure(direct), "a client outside the proxies cannot claim HTTPS")

				require.NotEmpty(t, cfg.Security.CORSOrigins)
				require.False(t, cfg.Security.AllowAnyOrigin())
				for _, o := range cfg.Security.CORSOrigins {
					require.True(t, strings.HasPrefix(o, "https://"), o)
				}

				if overlay != "production" {
					continue
				}
				for what, edit := range map[string]func(map[string]string){
					"no keys":      func(e map[string]string) { delete(e, "JWT_KEYS_FILE") },
					"plain HTTP":   func(e map[string]string) { e["ALLOW_PLAIN_HTTP"] = "true" },
					"any origin":   func(e map[string]string) { e["CORS_ALLOWED_ORIGINS"] = "*" },
					"http origin":  func(e map[string]string) { e["CORS_ALLOWED_ORIGINS"] = "http://app.vitalgraph.example" },
					"no database":  func(e map[string]string) { delete(e, "DATABASE_URL") },
					"dev mode":     func(e map[string]string) { e["ENV_MODE"] = "dev" },
					"no ip limits": func(e map[string]string) { e["RATE_LIMIT_IP"] = "0" },
				} {
					bad := map[string]string{}
					for k, v := range env {
						bad[k] = v
					}
					edit(bad)
					_, err := server.LoadConfig(mapEnv(bad))
					require.Error(t, err, "production %s with %s must refuse to start", name, what)
				}
			}
		})
	}
}

// fromSecret reports whether volume v provides file rel from a Secret
// (directly or projected).
func fromSecret(v corev1.Volume, rel string) bool {
	has := func(items []corev1.KeyToPath) bool {
		return len(items) == 0 || slices.ContainsFunc(items, func(k corev1.KeyToPath) bool { return k.Path == rel })
	}
	if v.Secret != nil {
		return has(v.Secret.Items)
	}
	if v.Projected != nil {
		for _, src := range v.Projected.Sources {
			if src.Secret != nil && len(src.Secret.Items) > 0 && has(src.Secret.Items) {
				return true
			}
		}
	}
	return false
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func mountOf(c corev1.Container, file string) *corev1.VolumeMount {
	for i, m := range c.VolumeMounts {
		if strings.HasPrefix(path.Clean(file), strings.TrimSuffix(m.MountPath, "/")+"/") {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volumeOf(s corev1.PodSpec, name string) corev1.Volume {
	for _, v := range s.Volumes {
		if v.Name == name {
			return v
		}
	}
	return corev1.Volume{}
}

// firstTrusted returns an address inside the first TRUSTED_PROXIES entry.
func firstTrusted(t *testing.T, list string) string {
	t.Helper()
	first, _, _ := strings.Cut(list, ",")
	first = strings.TrimSpace(first)
	if ip, _, ok := strings.Cut(first, "/"); ok {
		parts := strings.Split(ip, ".")
		if len(parts) == 4 && parts[3] == "0" {
			parts[3] = "7"
		}
		return strings.Join(parts, ".")
	}
	require.NotEmpty(t, first)
	return first
}

// configTable is the set of variables named in the first column of the
// README's configuration table.
func configTable(t *testing.T) map[string]bool {
	t.Helper()
	return readConfigTable(t, "../README.md")
}

func readConfigTable(t *testing.T, readme string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(readme)
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(b), "## Configuration")
	require.True(t, ok, "README has a Configuration section")
	vars := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "## ") {
			break
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range backticked.FindAllStringSubmatch(first, -1) {
			vars[m[1]] = true
		}
	}
	require.NotEmpty(t, vars)
	return vars
}

var backticked = regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
