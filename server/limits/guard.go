package limits

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/vitalgraph/vitalgraph/engine"
)

// WriteError writes a GraphQL-shaped error body with a code.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// Guard checks GraphQL HTTP requests before gqlgen sees them:
//   - POST must be application/json (multipart, urlencoded and text/plain
//     are CSRF vectors): 415 EINVALID;
//   - the body must be valid UTF-8 (400 EINVALID), one JSON object (a JSON
//     array is a batch: 400 ELIMIT; anything else 400 EINVALID) and within
//     the body limit (413 ELIMIT);
//   - the envelope is strict (CheckEnvelope): no duplicate keys, query a
//     string, variables and extensions objects: 400 EINVALID naming the field;
//   - GET may carry only queries: a mutation or subscription is 405 EINVALID;
//     its variables and extensions must be JSON objects, each parameter once.
//
// Websocket upgrades and OPTIONS pass through.
func Guard(tokenLimit int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				WriteError(w, http.StatusUnsupportedMediaType, engine.EINVALID, "Content-Type must be application/json")
				return
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					WriteError(w, http.StatusRequestEntityTooLarge, engine.ELIMIT, "request body too large")
					return
				}
				WriteError(w, http.StatusBadRequest, engine.EINVALID, "could not read the request body")
				return
			}
			if !utf8.Valid(body) {
				WriteError(w, http.StatusBadRequest, engine.EINVALID, "request body is not valid UTF-8")
				return
			}
			trimmed := bytes.TrimLeft(body, " \t\r\n")
			if len(trimmed) > 0 && trimmed[0] == '[' {
				WriteError(w, http.StatusBadRequest, engine.ELIMIT, "batched operations are not supported: send one operation per request")
				return
			}
			if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
				WriteError(w, http.StatusBadRequest, engine.EINVALID, "request body must be one JSON object")
				return
			}
			if err := checkValidEnvelope(trimmed); err != nil { // json.Valid just accepted it
				WriteError(w, http.StatusBadRequest, engine.EINVALID, engine.ErrorMessage(err))
				return
			}
			if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") && bytes.Contains(body, []byte("subscription")) && postsSubscription(body, tokenLimit) {
				WriteError(w, http.StatusBadRequest, engine.EINVALID, "subscriptions need a websocket or Server-Sent Events (Accept: text/event-stream)")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		case http.MethodOptions:
		case http.MethodGet:
			params, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				WriteError(w, http.StatusBadRequest, engine.EINVALID, "the URL query string is malformed")
				return
			}
			for _, name := range []string{"query", "operationName", "variables", "extensions"} {
				if len(params[name]) > 1 {
					WriteError(w, http.StatusBadRequest, engine.EINVALID, "duplicate parameter "+name)
					return
				}
				if !utf8.ValidString(params.Get(name)) {
					WriteError(w, http.StatusBadRequest, engine.EINVALID, name+" is not valid UTF-8")
					return
				}
			}
			for _, name := range []string{"variables", "extensions"} {
				if err := CheckJSONObjectParam(name, params.Get(name)); err != nil {
					WriteError(w, http.StatusBadRequest, engine.EINVALID, engine.ErrorMessage(err))
					return
				}
			}
			if q := params.Get("query"); q != "" {
				doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, tokenLimit)
				if err != nil {
					break // gqlgen reports the parse error
				}
				for _, op := range doc.Operations {
					if op.Operation != ast.Query {
						w.Header().Set("Allow", "POST")
						WriteError(w, http.StatusMethodNotAllowed, engine.EINVALID, "GET requests may only carry queries; send mutations and subscriptions by POST")
						return
					}
				}
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			WriteError(w, http.StatusMethodNotAllowed, engine.EINVALID, "use GET or POST")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// postsSubscription reports whether a POST body's operation (the named one,
// or the only one) is a subscription: plain POST cannot stream it.
func postsSubscription(body []byte, tokenLimit int) bool {
	var p struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &p) != nil || p.Query == "" {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, tokenLimit)
	if err != nil {
		return false
	}
	op := doc.Operations.ForName(p.OperationName)
	return op != nil && op.Operation == ast.Subscription
}
