package server

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/feed"
)

// sseTransport serves GraphQL over Server-Sent Events, like gqlgen's
// transport.SSE (events "next" and "complete"), plus what resumable feeds
// need and gqlgen's does not do:
//   - every event of a feed subscription carries `id: <cursor>`;
//   - a `Last-Event-ID` header resumes after that cursor (it takes
//     precedence over the `after` argument), so a reconnecting EventSource
//     gets exactly what it missed;
//   - GET (EventSource can only GET) as well as POST with a JSON body;
//   - a subscription cut off by the server ends with a `next` event that
//     carries the error (with extensions.code) before `complete`;
//   - the stream ends when the App shuts down.
//
// It handles requests whose Accept includes text/event-stream.
type sseTransport struct {
	app       *App
	keepAlive time.Duration
}

var _ graphql.Transport = sseTransport{}

func (t sseTransport) Supports(r *http.Request) bool {
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return false
	}
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mt == "application/json"
	}
	return false
}

func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeJSONError(w, http.StatusInternalServerError, engine.EINTERNAL, "streaming unsupported")
		return
	}
	start := graphql.Now()
	params, err := sseParams(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, engine.EINVALID, err.Error())
		return
	}
	ctx := t.app.connContext(r.Context())
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		c, err := feed.ParseCursor(id)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, engine.EINVALID, "Last-Event-ID must be a feed cursor")
			return
		}
		ctx = feed.WithResumeCursor(ctx, c)
	}
	ctx, trail := feed.WithCursorTrail(ctx)
	ctx, streamErrs := feed.WithStreamErrors(ctx)
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr == nil && r.Method == http.MethodGet && rc.Operation.Operation == ast.Mutation {
		writeJSONError(w, http.StatusMethodNotAllowed, engine.EINVALID, "mutations are not allowed over GET")
		return
	}
	ctx = graphql.WithOperationContext(ctx, rc)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var mu sync.Mutex
	write := func(s string) bool {
		mu.Lock()
		defer mu.Unlock()
		if _, err := io.WriteString(w, s); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	write(":\n\n")

	if t.keepAlive > 0 {
		done := make(chan struct{})
		defer close(done)
		go func() {
			tk := time.NewTicker(t.keepAlive)
			defer tk.Stop()
			for {
				select {
				case <-done:
					return
				case <-ctx.Done():
					return
				case <-tk.C:
					write(": ping\n\n")
				}
			}
		}()
	}

	if opErr != nil {
		write(sseEvent("next", "", exec.DispatchError(ctx, opErr)))
		write("event: complete\n\n")
		return
	}
	responses, dctx := exec.DispatchOperation(ctx, rc)
	for {
		resp := responses(dctx)
		if resp == nil {
			break
		}
		id := ""
		if c, ok := trail.Pop(); ok {
			id = c.String()
		}
		if !write(sseEvent("next", id, resp)) {
			return
		}
	}
	if errs := streamErrs.List(); len(errs) > 0 {
		write(sseEvent("next", "", &graphql.Response{Errors: errs}))
	}
	// On shutdown the stream just ends, without "complete": the client
	// reconnects (to another instance) with Last-Event-ID and resumes.
	if t.app.baseCtx.Err() == nil {
		write("event: complete\n\n")
	}
}

// sseEvent formats one event; data is one line of JSON.
func sseEvent(event, id string, resp *graphql.Response) string {
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: "internal error"}}})
	}
	var sb strings.Builder
	sb.WriteString("event: ")
	sb.WriteString(event)
	sb.WriteByte('\n')
	if id != "" {
		sb.WriteString("id: ")
		sb.WriteString(id)
		sb.WriteByte('\n')
	}
	sb.WriteString("data: ")
	sb.Write(b)
	sb.WriteString("\n\n")
	return sb.String()
}

// sseParams reads the GraphQL request: the JSON body of a POST, or the
// query, operationName, variables and extensions parameters of a GET.
func sseParams(r *http.Request) (*graphql.RawParams, error) {
	p := &graphql.RawParams{}
	if r.Method == http.MethodPost {
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(p); err != nil {
			return nil, fmt.Errorf("the body must be a GraphQL request in JSON")
		}
		return p, nil
	}
	q := r.URL.Query()
	p.Query = q.Get("query")
	p.OperationName = q.Get("operationName")
	for name, dst := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
		if s := q.Get(name); s != "" {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			if err := dec.Decode(dst); err != nil {
				return nil, fmt.Errorf("%s must be a JSON object", name)
			}
		}
	}
	return p, nil
}
