package server

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// rawDataPOST is gqlgen's POST transport with one change: the data of a
// response without errors is written as gqlgen's executor produced it
// (compact JSON), instead of going through json.Marshal again, which
// re-validates and re-compacts all of it (a fifth of the server's CPU for
// insights(first: 50)). Headers, status codes and every response with
// errors stay gqlgen's. The one visible difference: <, > and & inside
// strings are no longer escaped as \u003c, \u003e and \u0026 (the same JSON
// values), so the response says nosniff: it is application/json, never
// rendered as HTML.
type rawDataPOST struct{ transport.POST }

// It also takes ingestObservations requests of the typed shape through the
// typed decoder (ingestpost.go): the body gqlgen decodes then carries the
// empty list for the input variable, and the decoded input rides in the
// request's context.
func (t rawDataPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	rw := &rawDataWriter{ResponseWriter: w}
	body, err := io.ReadAll(r.Body)
	switch {
	case err != nil: // POST reports it, as it would have
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
	default:
		if rewritten, input, ok := typedIngest(r.Context(), body); ok {
			r = r.WithContext(context.WithValue(r.Context(), typedIngestKey{}, input))
			body = rewritten
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	t.POST.Do(rw, r, rawDataExecutor{GraphExecutor: exec, w: rw})
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// rawDataExecutor takes the data out of a successful response, for
// rawDataWriter to put back, so that POST marshals only the envelope.
type rawDataExecutor struct {
	graphql.GraphExecutor
	w *rawDataWriter
}

func (e rawDataExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	next, ctx := e.GraphExecutor.DispatchOperation(ctx, rc)
	return func(ctx context.Context) *graphql.Response {
		resp := next(ctx)
		if resp == nil || len(resp.Errors) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil || len(resp.Data) == 0 {
			return resp
		}
		out := *resp
		e.w.data, out.Data = resp.Data, nil
		return &out
	}, ctx
}

// dataNull is how json.Marshal starts a graphql.Response without errors
// whose data is nil.
const dataNull = `{"data":null`

// rawDataWriter writes the envelope POST marshalled with the data put back.
type rawDataWriter struct {
	http.ResponseWriter
	data []byte
}

func (w *rawDataWriter) Write(b []byte) (int, error) {
	data := w.data
	if data == nil || len(b) < len(dataNull) || string(b[:len(dataNull)]) != dataNull {
		return w.ResponseWriter.Write(b)
	}
	w.data = nil
	for _, part := range [][]byte{[]byte(`{"data":`), data, b[len(dataNull):]} {
		if _, err := w.ResponseWriter.Write(part); err != nil { //nolint:gosec // JSON from the executor, served as application/json with nosniff
			return 0, err
		}
	}
	return len(b), nil
}
