package telemetry

import (
	"context"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TracerName names the server's own spans (GraphQL operations, jobs, LLM calls).
const TracerName = "github.com/vitalgraph/vitalgraph/server"

var tracingOn atomic.Bool

// TracingEnabled reports whether a tracer provider was installed
// (SetupTracing with OTEL_* set, or UseTracerProvider). Instrumentation that
// costs something even with a no-op tracer (the SQL driver wrapper) is only
// added when it is.
func TracingEnabled() bool { return tracingOn.Load() }

// TracingConfigured reports whether the environment asks for tracing: an
// OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED and
// OTEL_TRACES_EXPORTER=none do not turn it off.
func TracingConfigured(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") ||
		strings.EqualFold(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")), "none") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// SetupTracing installs an OTLP/HTTP trace exporter configured by the
// standard OTEL_* variables (endpoint, headers, OTEL_SERVICE_NAME,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER...) as the global tracer
// provider, with W3C trace-context propagation. It does nothing and returns
// a no-op shutdown when TracingConfigured is false. The returned function
// flushes and stops the exporter.
func SetupTracing(ctx context.Context, getenv func(string) string, version string) (func(context.Context) error, error) {
	if !TracingConfigured(getenv) {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, err
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the defaults.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", "vitalgraph"), attribute.String("service.version", version)),
		resource.WithFromEnv())
	if err != nil {
		res = resource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	UseTracerProvider(tp)
	return tp.Shutdown, nil
}

// UseTracerProvider installs tp as the global tracer provider (tests pass
// one with an in-memory exporter) with W3C trace-context propagation.
func UseTracerProvider(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tracingOn.Store(true)
}

// Tracer is the server's tracer (from the global provider).
func Tracer() trace.Tracer { return otel.Tracer(TracerName) }

// TraceID returns the trace id of ctx's span, or "".
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}
