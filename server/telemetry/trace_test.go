package telemetry_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
	"github.com/vitalgraph/vitalgraph/server/telemetry"
)

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOneTraceFromHTTPToSQL: with a tracer provider installed (an
// in-process exporter), one GraphQL request makes an HTTP server span, a
// GraphQL operation span under it and SQL spans under that, all with one
// trace id — the trace id of the request's log lines. Tracing is global to
// the process, so this test lives in its own package.
func TestOneTraceFromHTTPToSQL(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	telemetry.UseTracerProvider(tp)
	require.True(t, telemetry.TracingEnabled())

	st := servertest.NewPostgresStore(t) // opened after the provider: SQL through otelsql
	cfg := servertest.Config()
	logs := &syncBuffer{}
	logCfg := cfg
	logCfg.EnvMode, logCfg.LogLevel = server.ModeStaging, slog.LevelInfo
	app, err := server.NewAppWithStore(context.Background(), cfg, server.NewLogger(logs, logCfg), st)
	require.NoError(t, err)
	hs := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		hs.Close()
		_ = app.Close()
	})

	exp.Reset()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, hs.URL+"/graphql",
		strings.NewReader(`{"query":"query Me { me { id email } }"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hs.Client().Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp.Body.Close()

	spans := exp.GetSpans()
	var httpSpan, gqlSpan tracetest.SpanStub
	for _, s := range spans {
		switch s.Name {
		case "POST /graphql":
			httpSpan = s
		case "graphql.query other":
			gqlSpan = s
		}
	}
	require.True(t, httpSpan.SpanContext.IsValid(), "HTTP span; got %v", names(spans))
	require.True(t, gqlSpan.SpanContext.IsValid(), "GraphQL span; got %v", names(spans))
	traceID := httpSpan.SpanContext.TraceID()
	require.Equal(t, traceID, gqlSpan.SpanContext.TraceID())
	require.Equal(t, httpSpan.SpanContext.SpanID(), gqlSpan.Parent.SpanID(), "the operation runs inside the HTTP span")

	// SQL spans: all inside the HTTP span (the viewer lookup comes before
	// the operation), the resolver's inside the GraphQL span.
	sqlSpans, underOperation := 0, 0
	for _, s := range spans {
		if strings.HasPrefix(s.Name, "sql.") {
			sqlSpans++
			require.Equal(t, traceID, s.SpanContext.TraceID())
			require.True(t, isDescendant(spans, s, httpSpan.SpanContext.SpanID().String()), "SQL span %s under the HTTP span", s.Name)
			if isDescendant(spans, s, gqlSpan.SpanContext.SpanID().String()) {
				underOperation++
			}
		}
	}
	require.Positive(t, sqlSpans, "SQL spans; got %v", names(spans))
	require.Positive(t, underOperation, "SQL spans of the resolver; got %v", names(spans))

	// Every log line of the request carries that trace id.
	found := 0
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		if line["msg"] == "http request" {
			found++
			require.Equal(t, traceID.String(), line["trace_id"])
			require.NotEmpty(t, line["request_id"])
		}
	}
	require.Equal(t, 1, found, "one access log line")
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// isDescendant reports whether s has an ancestor with span id ancestor.
func isDescendant(spans tracetest.SpanStubs, s tracetest.SpanStub, ancestor string) bool {
	byID := map[string]tracetest.SpanStub{}
	for _, x := range spans {
		byID[x.SpanContext.SpanID().String()] = x
	}
	for range len(spans) {
		p := s.Parent.SpanID().String()
		if p == ancestor {
			return true
		}
		next, ok := byID[p]
		if !ok {
			return false
		}
		s = next
	}
	return false
}
