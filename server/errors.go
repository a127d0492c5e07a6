package server

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/privacy"
)

// EUNAVAILABLE is the code of an outage: the database or Redis cannot be
// reached (or is shutting down), or this instance is draining. The request
// was not applied; retry after Retry-After seconds. (engine keeps the
// domain's codes; this one only exists at the edge.)
const EUNAVAILABLE = "EUNAVAILABLE"

// unavailableRetryAfter is the Retry-After (seconds) sent with EUNAVAILABLE.
const unavailableRetryAfter = 5

// maxErrors caps a response's error list; the rest are summarised in one
// more error ("and N more errors").
const maxErrors = 20

// unavailableError is the generic outage error.
func unavailableError(cause error) *engine.Error {
	return engine.Wrap(cause, EUNAVAILABLE, "the service is temporarily unavailable; retry later").
		WithDetails("retryAfterSeconds", unavailableRetryAfter)
}

// IsUnavailable reports whether err is an outage of a backing service
// (network errors, a refused or broken connection, PostgreSQL shutting down
// or refusing connections, a closed pool) rather than a bug or bad input.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ee *engine.Error
	if errors.As(err, &ee) && ee.Code == EUNAVAILABLE {
		return true
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var pqErr *pq.Error
	switch {
	case errors.As(err, &opErr), errors.As(err, &dnsErr):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.Is(err, redis.ErrClosed), errors.Is(err, redis.ErrPoolTimeout):
		return true
	case errors.As(err, &pqErr):
		switch pqErr.Code.Class() {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return true
		}
		return false
	}
	msg := err.Error()
	for _, s := range []string{
		"connection refused", "database system is shutting down", "database system is starting up",
		"database system is in recovery mode", "terminating connection due to administrator command",
		"bad connection", "broken pipe", "connection reset", "sql: database is closed", "i/o timeout",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// AppError translates any error into an *engine.Error: engine errors keep
// their code; ent's not-found, validation and constraint errors and privacy
// denials get theirs; outages are EUNAVAILABLE; everything else is
// EINTERNAL. This is the one place where storage errors become API errors.
func AppError(err error) *engine.Error {
	return appError(context.Background(), err)
}

func appError(ctx context.Context, err error) *engine.Error {
	var ee *engine.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if ee.Code == engine.EINTERNAL && IsUnavailable(err) {
			return unavailableError(err)
		}
		return ee
	case IsUnavailable(err):
		return unavailableError(err)
	case ent.IsNotFound(err):
		return engine.Wrap(err, engine.ENOTFOUND, "not found")
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return engine.Wrap(err, engine.EINVALID, "invalid value for "+ve.Name)
	case ent.IsConstraintError(err):
		return engine.Wrap(err, engine.ECONFLICT, "conflicts with existing data")
	case errors.Is(err, privacy.Deny):
		if _, ok := viewer.FromContext(ctx); !ok {
			return engine.Wrap(err, engine.EUNAUTHORIZED, "authentication required")
		}
		return engine.Wrap(err, engine.EFORBIDDEN, "forbidden")
	case strings.Contains(err.Error(), "empty predicate "):
		// entgql: a `not`/`and`/`or` filter with nothing in it.
		return engine.Wrap(err, engine.EINVALID, "where: a not/and/or filter must not be empty")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return engine.Wrap(err, engine.ELIMIT, "request cancelled or timed out")
	}
	return engine.Wrap(err, engine.EINTERNAL, "internal error")
}

// resolverError marks an error returned by a resolver (markResolverErrors):
// an error without it that is not an *engine.Error came from coercing the
// client's arguments (a scalar's or input's unmarshaler) and is the
// client's mistake.
type resolverError struct{ err error }

func (e resolverError) Error() string { return e.err.Error() }
func (e resolverError) Unwrap() error { return e.err }

// resolverErrorMarker wraps every operation's field middleware in
// markResolverErrors once per operation. srv.AroundFields(markResolverErrors)
// did the same through gqlgen's extension chain, which allocates a closure
// for every resolved field (50 insights × 11 fields = 550 per page).
type resolverErrorMarker struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = resolverErrorMarker{}

func (resolverErrorMarker) ExtensionName() string                   { return "ResolverErrorMarker" }
func (resolverErrorMarker) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext makes markResolverErrors the outermost field
// middleware. There is no other field interceptor today; one added with
// srv.AroundFields would run inside it (after the argument fixes, before
// errors are marked), where AroundFields(markResolverErrors) registered
// last had it innermost.
func (resolverErrorMarker) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	inner := oc.ResolverMiddleware
	oc.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) {
		return markResolverErrors(ctx, next, inner)
	}
	return nil
}

// markResolverErrors is the field middleware that marks resolver errors. It
// also applies the empty-list semantics of where filters (emptyInMeansNone).
// inner is the field middleware it wraps (gqlgen's pass-through when no
// other field interceptor is installed).
func markResolverErrors(ctx context.Context, next graphql.Resolver, inner graphql.FieldMiddleware) (any, error) {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.IsResolver {
		useTypedIngestInput(ctx, fc) // a typed ingestObservations request (ingestpost.go)
		for _, v := range fc.Args {
			emptyInMeansNone(v)
		}
	}
	res, err := inner(ctx, next)
	if err != nil {
		var gqlErr *gqlerror.Error
		var ee *engine.Error
		if !errors.As(err, &gqlErr) && !errors.As(err, &ee) {
			err = resolverError{err}
		}
	}
	return res, err
}

// respMeta collects what the error presenter learned about a response that
// changes its HTTP status: an outage (503) or a rate limit (429), each with
// Retry-After.
type respMeta struct {
	mu         sync.Mutex
	status     int
	retryAfter int
}

type respMetaKey struct{}

func metaFrom(ctx context.Context) *respMeta {
	m, _ := ctx.Value(respMetaKey{}).(*respMeta)
	return m
}

func (m *respMeta) set(status, retryAfter int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status == http.StatusServiceUnavailable { // an outage wins over a rate limit
		return
	}
	m.status, m.retryAfter = status, max(m.retryAfter, retryAfter)
}

// errorPresenter puts the code in extensions.code and keeps messages safe:
// a client's bad argument is EINVALID naming the argument; an outage is
// EUNAVAILABLE (503 + Retry-After on HTTP); a rate limit is ELIMIT (429 +
// Retry-After); "Did you mean" suggestions are cut outside dev mode;
// internal errors show a generic message and are logged (and
// sent to Sentry) once, here at the edge.
func errorPresenter(log *slog.Logger, dev bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			out := presentGQLError(gqlErr, dev)
			if code, _ := out.Extensions["code"].(string); code == engine.ENOTFOUND {
				if _, ok := viewer.FromContext(ctx); !ok && graphql.GetFieldContext(ctx) != nil {
					out.Message, out.Extensions["code"] = "authentication required", engine.EUNAUTHORIZED
				}
			}
			return out
		}
		out := graphql.DefaultErrorPresenter(ctx, err)
		var ae *engine.Error
		var marked resolverError
		var ee *engine.Error
		switch {
		case errors.As(err, &ee), errors.As(err, &marked):
			ae = appError(ctx, err)
		default:
			// Not from a resolver: an argument the client sent that a scalar
			// or input unmarshaler refused.
			ae = engine.Wrap(err, engine.EINVALID, "invalid value for "+argumentName(out.Path))
		}
		if ae.Code == engine.EFORBIDDEN || ae.Code == engine.ENOTFOUND {
			// Nobody signed in is unauthenticated, not forbidden, and
			// cannot tell what exists.
			if _, ok := viewer.FromContext(ctx); !ok {
				ae = engine.Wrap(err, engine.EUNAUTHORIZED, "authentication required")
			}
		}
		switch ae.Code {
		case engine.EINTERNAL:
			log.ErrorContext(ctx, "internal error", slog.String("err", err.Error()), slog.String("path", out.Path.String()))
			captureException(ctx, err)
		case EUNAVAILABLE:
			log.WarnContext(ctx, "backing service unavailable", slog.String("err", err.Error()), slog.String("path", out.Path.String()))
			metaFrom(ctx).set(http.StatusServiceUnavailable, unavailableRetryAfter)
		case engine.ELIMIT:
			if s, ok := ae.Details["retryAfterSeconds"].(int); ok {
				metaFrom(ctx).set(http.StatusTooManyRequests, s)
			}
		}
		out.Message = ae.Message
		if out.Extensions == nil {
			out.Extensions = map[string]any{}
		}
		out.Extensions["code"] = ae.Code
		for k, v := range ae.Details {
			out.Extensions[k] = v
		}
		return out
	}
}

// presentGQLError gives every error of gqlgen and gqlparser a code: parse
// and validation errors keep theirs; entgql's NOT_FOUND becomes ENOTFOUND;
// any other (persisted-query and protocol errors) becomes EINVALID.
func presentGQLError(gqlErr *gqlerror.Error, dev bool) *gqlerror.Error {
	if gqlErr.Extensions == nil {
		gqlErr.Extensions = map[string]any{}
	}
	code, _ := gqlErr.Extensions["code"].(string)
	// Suggestions name the schema's enum values and input fields: the
	// schema is not public outside dev mode (introspection is off).
	if i := strings.Index(gqlErr.Message, " Did you mean"); i > 0 && !dev {
		gqlErr.Message = gqlErr.Message[:i]
	}
	switch code {
	case "NOT_FOUND":
		gqlErr.Extensions["code"] = engine.ENOTFOUND
		gqlErr.Message = "not found"
	case "":
		gqlErr.Extensions["code"] = engine.EINVALID
		if strings.Contains(gqlErr.Message, "APQ") || strings.Contains(gqlErr.Message, "persisted") {
			gqlErr.Message = "persisted query: " + strings.TrimPrefix(gqlErr.Message, "provided ")
		}
	case engine.ELIMIT:
		// no status change: operation limits are not rate limits
	}
	return gqlErr
}

// argumentName names the argument or input field at the end of path (the
// path of an argument error is the field's path followed by the argument's
// and input fields' names).
func argumentName(p ast.Path) string {
	var names []string
	for i := len(p) - 1; i >= 0; i-- {
		n, ok := p[i].(ast.PathName)
		if !ok {
			continue
		}
		names = append([]string{string(n)}, names...)
		if len(names) == 3 {
			break
		}
	}
	if len(names) == 0 {
		return "an argument"
	}
	return strings.Join(names, ".")
}

// recoverFunc turns a resolver panic into EINTERNAL with a generic message:
// one log line (with the stack) and one Sentry event carrying the request id.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic recovered", slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
		recoverToSentry(ctx, p)
		return engine.Errorf(engine.EINTERNAL, "internal error")
	}
}

// withRecover is the HTTP edge: a panic outside gqlgen's own recovery is
// logged once, sent to Sentry once, and answered 500 EINTERNAL when nothing
// was written yet. It also gives the request a respMeta and turns a
// response that carries an outage or a rate limit into 503 or 429 with
// Retry-After.
func withRecover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meta := &respMeta{}
		ew := &edgeWriter{ResponseWriter: w, meta: meta}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic recovered", slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
				recoverToSentry(r.Context(), p)
				if !ew.wrote {
					writeJSONError(ew, http.StatusInternalServerError, engine.EINTERNAL, "internal error")
				}
			}
		}()
		next.ServeHTTP(ew, r.WithContext(context.WithValue(r.Context(), respMetaKey{}, meta)))
	})
}

// edgeWriter applies respMeta's status when the response starts.
type edgeWriter struct {
	http.ResponseWriter
	meta  *respMeta
	wrote bool
}

func (e *edgeWriter) WriteHeader(code int) {
	if e.wrote {
		return
	}
	e.wrote = true
	if code < 300 {
		e.meta.mu.Lock()
		st, ra := e.meta.status, e.meta.retryAfter
		e.meta.mu.Unlock()
		if st != 0 && !strings.HasPrefix(e.Header().Get("Content-Type"), "text/event-stream") {
			code = st
			e.Header().Set("Retry-After", strconv.Itoa(max(ra, 1)))
		}
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *edgeWriter) Write(b []byte) (int, error) {
	if !e.wrote {
		e.WriteHeader(http.StatusOK)
	}
	return e.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (e *edgeWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// Flush implements http.Flusher for SSE.
func (e *edgeWriter) Flush() {
	if !e.wrote {
		e.WriteHeader(http.StatusOK)
	}
	if f, ok := e.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack implements http.Hijacker for websocket upgrades.
func (e *edgeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := e.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer does not support hijacking")
	}
	e.wrote = true
	return h.Hijack()
}

// safeTransactioner is entgql.Transactioner made safe at the edge: a
// response without an operation (a parse or envelope error) needs no
// transaction, and a transaction that cannot be opened or committed is an
// outage (EUNAVAILABLE) or EINTERNAL with a generic message — never the
// driver's text.
type safeTransactioner struct {
	entgql.Transactioner
	present graphql.ErrorPresenterFunc
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = safeTransactioner{}

func (t safeTransactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation != ast.Mutation || (t.SkipTxFunc != nil && t.SkipTxFunc(op)) {
		return next(ctx)
	}
	txCtx, tx, err := t.OpenTx(ctx)
	if err != nil {
		return t.fail(ctx, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	rsp := next(txCtx)
	if rsp == nil { // the end of a stream (SSE asks once more)
		return nil
	}
	if len(rsp.Errors) > 0 {
		return &graphql.Response{Errors: rsp.Errors, Extensions: rsp.Extensions}
	}
	if err := tx.Commit(); err != nil {
		committed = true // a failed commit is rolled back by the database
		return t.fail(ctx, err)
	}
	committed = true
	return rsp
}

func (t safeTransactioner) fail(ctx context.Context, err error) *graphql.Response {
	ae := appError(ctx, err)
	if ae.Code != EUNAVAILABLE {
		ae = engine.Wrap(err, engine.EINTERNAL, "internal error")
	}
	// The presenter codes, logs and reports it.
	return &graphql.Response{Errors: gqlerror.List{t.present(ctx, ae)}}
}

// errorCap caps a response's error list at maxErrors.
type errorCap struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = errorCap{}

func (errorCap) ExtensionName() string                   { return "VitalgraphErrorCap" }
func (errorCap) Validate(graphql.ExecutableSchema) error { return nil }

func (errorCap) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	rsp := next(ctx)
	if rsp != nil {
		rsp.Errors = capErrors(rsp.Errors)
	}
	return rsp
}

func capErrors(list gqlerror.List) gqlerror.List {
	if len(list) <= maxErrors {
		return list
	}
	code := engine.EINVALID
	if c, ok := list[0].Extensions["code"].(string); ok && c != "" {
		code = c
	}
	more := len(list) - maxErrors
	out := append(gqlerror.List{}, list[:maxErrors]...)
	return append(out, &gqlerror.Error{
		Message:    fmt.Sprintf("and %d more errors", more),
		Extensions: map[string]any{"code": code, "omittedErrors": more},
	})
}
