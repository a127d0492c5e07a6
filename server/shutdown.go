package server

import (
	"net/http"
	"strconv"
)

// withDrain answers requests that arrive while the server drains (after
// SIGTERM, before the listener is gone) with 503 EUNAVAILABLE and
// Retry-After, so a client retries on another instance; requests already
// running finish (Serve waits for them up to SHUTDOWN_TIMEOUT). Probes pass:
// /readyz reports the drain itself.
func (a *App) withDrain(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.draining.Load() && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			w.Header().Set("Connection", "close")
			writeUnavailable(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeUnavailable writes 503 EUNAVAILABLE with Retry-After.
func writeUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{
		"errors": []map[string]any{{
			"message":    "the service is temporarily unavailable; retry later",
			"extensions": map[string]any{"code": EUNAVAILABLE, "retryAfterSeconds": unavailableRetryAfter},
		}},
	})
}
