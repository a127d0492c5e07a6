package main

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/vitalgraph/vitalgraph/server"
)

// composeFile is the part of the Compose specification that
// deploy/compose.yaml uses; decoding is strict, so a misspelt key fails.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
	Volumes map[string]*struct{} `yaml:"volumes"`
	// Top-level x-* extension keys hold YAML anchors.
	Extensions map[string]any `yaml:",inline"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context string            `yaml:"context"`
		Args    map[string]string `yaml:"args"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Restart     string            `yaml:"restart"`
	Environment map[string]string `yaml:"environment"`
	ReadOnly    bool              `yaml:"read_only"`
	CapDrop     []string          `yaml:"cap_drop"`
	SecurityOpt []string          `yaml:"security_opt"`
	Tmpfs       []string          `yaml:"tmpfs"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
		Disable     bool     `yaml:"disable"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Networks yaml.Node `yaml:"networks"`
}

const ourImage = "vitalgraph:local"

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("deploy/compose.yaml")
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f composeFile
	require.NoError(t, dec.Decode(&f))
	for k := range f.Extensions {
		require.True(t, strings.HasPrefix(k, "x-"), "unknown top-level key %q", k)
	}
	return f
}

// TestComposeFile checks deploy/compose.yaml as `docker compose up` would
// need it, without a Docker engine: every command and flag of the
// Vitalgraph services exists in this binary, every variable is in the
// README's configuration table and passes LoadConfig, every dependency,
// volume and network exists, and the proxy is the only trusted one.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	f := loadCompose(t)
	table := readmeConfigVars(t)
	for _, want := range []string{"postgres", "redis", "keys", "migrate", "api", "worker", "caddy"} {
		require.Contains(t, f.Services, want)
	}
	for name, s := range f.Services {
		require.NotEmpty(t, s.Image, "%s: image", name)
		for dep, d := range s.DependsOn {
			target, ok := f.Services[dep]
			require.True(t, ok, "%s depends on missing service %s", name, dep)
			switch d.Condition {
			case "service_started":
			case "service_healthy":
				require.True(t, hasHealthcheck(target), "%s waits for %s to be healthy, which has no healthcheck", name, dep)
			case "service_completed_successfully":
				require.Contains(t, []string{"", "no"}, target.Restart, "%s waits for %s to complete: it must be one-shot", name, dep)
			default:
				t.Fatalf("%s: depends_on %s has unknown condition %q", name, dep, d.Condition)
			}
		}
		for _, v := range s.Volumes {
			src, _, ok := strings.Cut(v, ":")
			require.True(t, ok, "%s: volume %q names a target", name, v)
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				_, err := os.Stat(filepath.Join("deploy", src))
				require.NoError(t, err, "%s: bind mount source %s exists", name, src)
			} else {
				require.Contains(t, f.Volumes, src, "%s: named volume %s is declared", name, src)
			}
		}
		if s.Image != ourImage {
			continue
		}
		require.NotNil(t, s.Build, "%s builds the image from this repository", name)
		require.Equal(t, "..", s.Build.Context, name)
		require.True(t, s.ReadOnly, "%s: read-only root filesystem", name)
		require.Equal(t, []string{"ALL"}, s.CapDrop, name)
		require.Contains(t, s.SecurityOpt, "no-new-privileges:true", name)
		require.NotEmpty(t, s.Command, "%s: command", name)
		checkCommand(t, name, s.Command, s.Environment)
		if hc := s.Healthcheck; hc != nil && !hc.Disable {
			require.Equal(t, "CMD", hc.Test[0], "%s: exec-form healthcheck (the image has no shell)", name)
			require.Equal(t, "/vitalgraph", hc.Test[1], "%s: healthcheck runs the binary", name)
			checkCommand(t, name+" healthcheck", hc.Test[2:], s.Environment)
		}
		for k := range s.Environment {
			require.Contains(t, table, k, "%s: %s is a variable of the README's configuration table", name, k)
		}
	}

	// The api: production behind the proxy, with keys, HTTPS and listed origins.
	api := f.Services["api"]
	cfg, err := server.LoadConfig(mapGetenv(api.Environment))
	require.NoError(t, err)
	require.Equal(t, server.ModeProduction, cfg.EnvMode, "local parity: the api runs as in production")
	require.NotEmpty(t, cfg.Security.JWTKeysFile)
	require.True(t, slices.ContainsFunc(api.Volumes, func(v string) bool {
		return strings.HasPrefix(v, "keys:"+filepath.Dir(cfg.Security.JWTKeysFile))
	}), "the api mounts the generated keys volume at JWT_KEYS_FILE")
	require.Contains(t, strings.Join(f.Services["keys"].Command, " "), "--out "+cfg.Security.JWTKeysFile,
		"the keys service writes the file the api reads")
	require.NotEmpty(t, cfg.AuditKeysFile, "one audit checkpoint key ring for every container")
	require.True(t, slices.ContainsFunc(slices.Collect(maps.Values(f.Services)), func(s composeService) bool {
		return strings.Contains(strings.Join(s.Command, " "), "--out "+cfg.AuditKeysFile)
	}), "a one-shot service writes AUDIT_KEYS_FILE")
	require.False(t, cfg.Security.AllowAnyOrigin())
	require.False(t, cfg.WorkerInProcess, "the worker service works the queue")
	require.Empty(t, api.Ports, "the api is reached only through the TLS proxy")

	caddy := f.Services["caddy"]
	var nets map[string]struct {
		IPv4 string `yaml:"ipv4_address"`
	}
	require.NoError(t, caddy.Networks.Decode(&nets))
	proxyIP := ""
	for n, v := range nets {
		require.Contains(t, f.Networks, n)
		proxyIP = v.IPv4
	}
	addr, err := netip.ParseAddr(proxyIP)
	require.NoError(t, err, "caddy has a fixed address")
	require.True(t, cfg.Security.TrustedProxies.Trusts(addr), "TRUSTED_PROXIES trusts the proxy")
	require.False(t, cfg.Security.TrustedProxies.Trusts(addr.Next()), "and only the proxy")

	caddyfile, err := os.ReadFile("deploy/caddy/Caddyfile")
	require.NoError(t, err)
	_, port, _ := strings.Cut(cfg.Addr, ":")
	require.Regexp(t, `reverse_proxy api:`+port+`\b`, string(caddyfile), "Caddy proxies to the api's port")
	require.Contains(t, string(caddyfile), "tls internal")
	require.Contains(t, cfg.Security.CORSOrigins, "https://localhost:"+strings.Split(caddy.Ports[0], ":")[0],
		"the browser origin of the proxy is allowed")
}

// checkCommand runs a service's command with -h appended when it has flags:
// the flag set must accept every flag (flag.ErrHelp, not "flag provided but
// not defined"). A command without flags must be one of the binary's.
// Commands that read the configuration get the service's environment.
func checkCommand(t *testing.T, name string, args []string, env map[string]string) {
	t.Helper()
	require.Contains(t, usage, "\n  "+args[0]+" ", "%s: %q is a vitalgraph command", name, args[0])
	if args[0] != "keys" && args[0] != "healthcheck" && args[0] != "version" {
		_, err := server.LoadConfig(mapGetenv(env))
		require.NoError(t, err, "%s: its environment passes LoadConfig", name)
	}
	hasFlags := slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "-") })
	if !hasFlags {
		return
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(slices.Clone(args), "-h"), mapGetenv(env), &out, &errOut)
	require.ErrorIs(t, err, flag.ErrHelp, "%s: %v accepts its flags: %s", name, args, errOut.String())
}

func hasHealthcheck(s composeService) bool {
	if s.Healthcheck != nil {
		return !s.Healthcheck.Disable && len(s.Healthcheck.Test) > 0
	}
	return s.Image == ourImage // the Dockerfile's HEALTHCHECK
}

func mapGetenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestEnvTemplates: the staging and production templates name only
// variables of the README's table and, with the secrets filled in, pass
// LoadConfig in their mode.
func TestEnvTemplates(t *testing.T) {
	t.Parallel()
	table := readmeConfigVars(t)
	for _, mode := range []string{"staging", "production"} {
		b, err := os.ReadFile("deploy/env/" + mode + ".env.example")
		require.NoError(t, err)
		env := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q", mode, line)
			require.Contains(t, table, k, "%s: %s is in the README's configuration table", mode, k)
			env[k] = strings.ReplaceAll(v, "<secret>", "s3cret")
		}
		cfg, err := server.LoadConfig(mapGetenv(env))
		require.NoError(t, err, mode)
		require.Equal(t, mode, cfg.EnvMode)
		require.NotEmpty(t, cfg.Security.JWTKeysFile, mode)
		require.NotEmpty(t, cfg.Security.TrustedProxies, mode)
		require.False(t, cfg.Security.AllowAnyOrigin(), mode)
	}
}

// TestDockerfile: production by default, non-root, a healthcheck through
// the binary, OCI labels carrying version and commit.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	stages := strings.Split(string(b), "\nFROM ")
	final := stages[len(stages)-1]
	require.Contains(t, final, "distroless")
	require.Regexp(t, `ENV ENV_MODE=production`, final)
	require.Regexp(t, `USER 65532`, final)
	require.Contains(t, final, `HEALTHCHECK`)
	require.Contains(t, final, `CMD ["/vitalgraph", "healthcheck"]`)
	require.Contains(t, final, `org.opencontainers.image.version="${VERSION}"`)
	require.Contains(t, final, `org.opencontainers.image.revision="${COMMIT}"`)
	require.Contains(t, final, "--chown=65532:65532 /out/data /data", "the data folder is writable by nonroot")
	require.Contains(t, string(b), "-X main.version=${VERSION} -X main.commit=${COMMIT}")
	ignore, err := os.ReadFile(".dockerignore")
	require.NoError(t, err)
	for _, p := range []string{".git", "bin", "data", ".tmp"} {
		require.Contains(t, strings.Split(string(ignore), "\n"), p, ".dockerignore keeps %s out of the build context", p)
	}
}

// readmeConfigVars is the set of variables in the first column of the
// README's configuration table.
func readmeConfigVars(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("README.md")
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
		for _, m := range readmeVar.FindAllStringSubmatch(strings.Split(line, "|")[1], -1) {
			vars[m[1]] = true
		}
	}
	require.NotEmpty(t, vars)
	return vars
}

var readmeVar = regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
