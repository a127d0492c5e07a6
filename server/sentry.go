package server

import (
	"fmt"

	"github.com/getsentry/sentry-go"
)

// InitSentry configures error monitoring. No personal data is sent: the
// request body, variables, cookies and Authorization header are stripped.
func InitSentry(cfg Config) error {
	err := sentry.Init(sentry.ClientOptions{
		Dsn:            cfg.SentryDSN,
		Environment:    cfg.EnvMode,
		Release:        cfg.Version,
		SendDefaultPII: false,
		BeforeSend: func(ev *sentry.Event, _ *sentry.EventHint) *sentry.Event {
			if ev.Request != nil {
				ev.Request.Data = ""
				ev.Request.Cookies = ""
				ev.Request.QueryString = ""
				delete(ev.Request.Headers, "Authorization")
				delete(ev.Request.Headers, "Cookie")
			}
			ev.User = sentry.User{ID: ev.User.ID}
			return ev
		},
	})
	if err != nil {
		return fmt.Errorf("SENTRY_DSN: %w", err)
	}
	return nil
}
