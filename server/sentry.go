package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/getsentry/sentry-go"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/server/telemetry"
)

// InitSentry configures error monitoring. No personal data is sent: the
// request body, variables, query string, cookies and every header but a
// small allow-list are stripped, and exception messages are kept only as
// the error's type (messages may quote values). Events carry a
// pseudonymous user id, the request id and the operation name
// (sentryScope).
func InitSentry(cfg Config) error {
	return InitSentryWithTransport(cfg, nil)
}

// InitSentryWithTransport is InitSentry with a transport (tests capture
// events with one).
func InitSentryWithTransport(cfg Config, transport sentry.Transport) error {
	err := sentry.Init(sentry.ClientOptions{
		Dsn:            cfg.SentryDSN,
		Environment:    cfg.EnvMode,
		Release:        cfg.Version,
		SendDefaultPII: false,
		Transport:      transport,
		BeforeSend:     scrubEvent,
	})
	if err != nil {
		return fmt.Errorf("SENTRY_DSN: %w", err)
	}
	return nil
}

// sentryHeaders are the only request headers an event keeps.
var sentryHeaders = map[string]bool{"Content-Type": true, "Accept": true, "X-Request-Id": true, "X-Request-ID": true}

// scrubEvent removes anything that could hold a credential or a health
// value: request data, cookies, query string, headers outside
// sentryHeaders, user fields other than the pseudonymous id, breadcrumbs
// and extra data.
func scrubEvent(ev *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	if ev.Request != nil {
		ev.Request.Data = ""
		ev.Request.Cookies = ""
		ev.Request.QueryString = ""
		for k := range ev.Request.Headers {
			if !sentryHeaders[k] {
				delete(ev.Request.Headers, k)
			}
		}
	}
	ev.User = sentry.User{ID: ev.User.ID}
	ev.Breadcrumbs = nil
	ev.Extra = nil
	for i := range ev.Exception {
		ev.Exception[i].Value = ""
		if st := ev.Exception[i].Stacktrace; st != nil {
			for j := range st.Frames {
				// Source lines and variables could quote literals.
				st.Frames[j].PreContext, st.Frames[j].ContextLine, st.Frames[j].PostContext, st.Frames[j].Vars = nil, "", nil, nil
			}
		}
	}
	for i := range ev.Threads {
		ev.Threads[i].Stacktrace = nil
	}
	ev.Message = ""
	return ev
}

// PseudonymousUserID is what Sentry sees instead of a user id: a truncated
// SHA-256 of it, stable across events so one user's errors group together.
func PseudonymousUserID(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("vitalgraph-sentry:" + id))
	return hex.EncodeToString(sum[:8])
}

// sentryHub returns a hub for ctx's request whose scope carries the
// pseudonymous user id, the request id and the operation name.
func sentryHub(ctx context.Context) *sentry.Hub {
	hub := sentry.GetHubFromContext(ctx)
	if hub == nil {
		hub = sentry.CurrentHub()
	}
	hub = hub.Clone()
	hub.ConfigureScope(func(s *sentry.Scope) {
		if id := RequestIDFromContext(ctx); id != "" {
			s.SetTag("request_id", id)
		}
		if id := telemetry.TraceID(ctx); id != "" {
			s.SetTag("trace_id", id)
		}
		if v, ok := viewer.FromContext(ctx); ok && v.UserID != "" {
			s.SetUser(sentry.User{ID: PseudonymousUserID(v.UserID)})
		}
		if graphql.HasOperationContext(ctx) {
			oc := graphql.GetOperationContext(ctx)
			name := oc.OperationName
			if name == "" && oc.Operation != nil {
				name = oc.Operation.Name
			}
			if name != "" {
				s.SetTag("operation", name)
			}
			if oc.Operation != nil {
				s.SetTag("operation_type", string(oc.Operation.Operation))
			}
		}
		if fc := graphql.GetFieldContext(ctx); fc != nil {
			s.SetTag("path", fc.Path().String())
		}
	})
	return hub
}

// captureException sends one internal error to Sentry.
func captureException(ctx context.Context, err error) {
	sentryHub(ctx).CaptureException(err)
}

// recoverToSentry sends one recovered panic to Sentry.
func recoverToSentry(ctx context.Context, p any) {
	sentryHub(ctx).RecoverWithContext(ctx, p)
}
