// Package wearabletest runs fake WHOOP and Oura clouds on httptest, built
// from the documented v2 request and response shapes: OAuth 2.0
// authorization (code + PKCE S256), token exchange and refresh (the old
// refresh token is invalidated), revocation, the account profile, paged
// collections, 429 with Retry-After, and rescoring. Tests drive the whole
// connection flow against them; nothing touches the real network.
package wearabletest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Day is one night of data the fake serves. Sleep ends (the wake time) at
// End; values are in the provider's units.
type Day struct {
	End       time.Time // wake time, UTC
	Offset    string    // e.g. "-05:00"
	HRV       float64   // ms
	RestingHR float64   // bpm
	Updated   time.Time // updated_at (a rescore moves it)
}

// Fake is a running fake provider.
type Fake struct {
	*httptest.Server
	Kind         string // "WHOOP" or "OURA"
	ClientID     string
	ClientSecret string
	AccountID    string // the provider's user id
	// TokenTTL is the expires_in of issued access tokens (default 1h).
	TokenTTL time.Duration
	// PageSize is the records per page (default 25, WHOOP's maximum).
	PageSize int

	mu        sync.Mutex
	days      []Day
	codes     map[string]string // code → S256 challenge
	access    map[string]bool   // valid access tokens
	refresh   map[string]bool   // valid refresh tokens
	throttle  int               // next data requests answered 429
	retryAt   time.Duration
	Log       []Request // every data request, in order
	Refreshes int
	Revoked   int
}

// Request is one data request the fake answered.
type Request struct {
	Path   string
	Query  url.Values
	Status int
	At     time.Time
}

// NewWHOOP starts a fake WHOOP.
func NewWHOOP(tb testing.TB) *Fake { return start(tb, "WHOOP", "10129") }

// NewOura starts a fake Oura.
func NewOura(tb testing.TB) *Fake { return start(tb, "OURA", "oura-user-7f3a") }

func start(tb testing.TB, kind, account string) *Fake {
	tb.Helper()
	f := &Fake{
		Kind: kind, ClientID: "client-" + kind, ClientSecret: "secret-" + randomString(),
		AccountID: account, TokenTTL: time.Hour, PageSize: 25,
		codes: map[string]string{}, access: map[string]bool{}, refresh: map[string]bool{},
	}
	mux := http.NewServeMux()
	if kind == "WHOOP" {
		mux.HandleFunc("GET /oauth/oauth2/auth", f.authorize)
		mux.HandleFunc("POST /oauth/oauth2/token", f.token)
		mux.HandleFunc("GET /developer/v2/user/profile/basic", f.authed(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, map[string]any{"user_id": mustInt(f.AccountID), "email": "person@example.com", "first_name": "P", "last_name": "Q"})
		}))
		mux.HandleFunc("DELETE /developer/v2/user/access", f.authed(func(w http.ResponseWriter, r *http.Request) {
			f.revoke(bearer(r))
			w.WriteHeader(http.StatusNoContent)
		}))
		mux.HandleFunc("GET /developer/v2/activity/sleep", f.data(f.whoopSleep))
		mux.HandleFunc("GET /developer/v2/recovery", f.data(f.whoopRecovery))
		mux.HandleFunc("GET /developer/v2/cycle", f.data(f.whoopCycle))
	} else {
		mux.HandleFunc("GET /oauth/authorize", f.authorize)
		mux.HandleFunc("POST /oauth/token", f.token)
		mux.HandleFunc("GET /oauth/revoke", func(w http.ResponseWriter, r *http.Request) {
			f.revoke(r.URL.Query().Get("access_token"))
			w.WriteHeader(http.StatusOK)
		})
		mux.HandleFunc("GET /v2/usercollection/personal_info", f.authed(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, map[string]any{"id": f.AccountID, "age": 40, "email": "person@example.com"})
		}))
		mux.HandleFunc("GET /v2/usercollection/sleep", f.data(f.ouraSleep))
		mux.HandleFunc("GET /v2/usercollection/daily_readiness", f.data(f.ouraReadiness))
		mux.HandleFunc("GET /v2/usercollection/daily_activity", f.data(func(Day) any { return nil }))
	}
	f.Server = httptest.NewServer(mux)
	tb.Cleanup(f.Close)
	return f
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func bearer(r *http.Request) string {
	const p = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) > len(p) && h[:len(p)] == p {
		return h[len(p):]
	}
	return ""
}

// SetDays replaces the nights the fake serves.
func (f *Fake) SetDays(days []Day) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.days = append([]Day(nil), days...)
	sort.Slice(f.days, func(i, j int) bool { return f.days[i].End.After(f.days[j].End) }) // newest first, as the APIs page
}

// Rescore changes the HRV of the night ending at end and moves its
// updated_at, as a provider's rescoring does.
func (f *Fake) Rescore(end time.Time, hrv float64, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.days {
		if f.days[i].End.Equal(end) {
			f.days[i].HRV, f.days[i].Updated = hrv, at
		}
	}
}

// Throttle makes the next n data requests answer 429 with Retry-After.
func (f *Fake) Throttle(n int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle, f.retryAt = n, retryAfter
}

// ExpireAccessTokens invalidates every issued access token (refresh tokens
// stay valid).
func (f *Fake) ExpireAccessTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.access = map[string]bool{}
}

// Requests returns a copy of the data request log.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.Log...)
}

// Counts returns the refreshes and revocations so far.
func (f *Fake) Counts() (refreshes, revoked int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Refreshes, f.Revoked
}

// authorize is the consent page: it approves at once and redirects to
// redirect_uri with a code bound to the PKCE challenge.
func (f *Fake) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != f.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || len(q.Get("state")) < 8 || q.Get("redirect_uri") == "" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	code := randomString()
	f.mu.Lock()
	f.codes[code] = q.Get("code_challenge")
	f.mu.Unlock()
	to, _ := url.Parse(q.Get("redirect_uri"))
	back := to.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	to.RawQuery = back.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound) //nolint:gosec // a consent page redirects to the client's redirect_uri, as the real one does
}

// token is the token endpoint (client credentials in the form).
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") != f.ClientID || r.PostForm.Get("client_secret") != f.ClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]any{"error": "invalid_client"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		challenge, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code")) // one use
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]any{"error": "invalid_grant"})
			return
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !f.refresh[rt] {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]any{"error": "invalid_grant"})
			return
		}
		delete(f.refresh, rt) // rotated
		f.Refreshes++
	default:
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"error": "unsupported_grant_type"})
		return
	}
	at, rt := "at-"+randomString(), "rt-"+randomString()
	f.access[at], f.refresh[rt] = true, true
	writeJSON(w, map[string]any{
		"access_token": at, "refresh_token": rt, "token_type": "bearer",
		"expires_in": int(f.TokenTTL.Seconds()), "scope": "offline read:recovery read:sleep read:cycles read:profile",
	})
}

func (f *Fake) revoke(access string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.access[access] {
		delete(f.access, access)
		f.Revoked++
	}
	f.refresh = map[string]bool{}
}

func (f *Fake) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		ok := f.access[bearer(r)]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]any{"error": "unauthorized"})
			return
		}
		h(w, r)
	}
}

// data serves one paged collection: the nights whose sleep started in the
// requested window, newest first, PageSize per page.
func (f *Fake) data(record func(Day) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		entry := Request{Path: r.URL.Path, Query: q, At: time.Now()}
		if f.throttle > 0 {
			f.throttle--
			entry.Status = http.StatusTooManyRequests
			f.Log = append(f.Log, entry)
			f.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(int(f.retryAt.Seconds())))
			w.WriteHeader(http.StatusTooManyRequests)
			writeJSON(w, map[string]any{"error": "rate limited"})
			return
		}
		if !f.access[bearer(r)] {
			entry.Status = http.StatusUnauthorized
			f.Log = append(f.Log, entry)
			f.mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		entry.Status = http.StatusOK
		f.Log = append(f.Log, entry)
		since, until, err := f.window(q)
		if err != nil {
			f.mu.Unlock()
			http.Error(w, `{"error":"bad window"}`, http.StatusBadRequest)
			return
		}
		var in []Day
		for _, d := range f.days {
			start := d.End.Add(-8 * time.Hour)
			if !start.Before(since) && start.Before(until) {
				in = append(in, d)
			}
		}
		f.mu.Unlock()
		tokenKey := "nextToken"
		if f.Kind == "OURA" {
			tokenKey = "next_token"
		}
		off := 0
		if t := q.Get(tokenKey); t != "" {
			b, err := base64.RawURLEncoding.DecodeString(t)
			if err != nil {
				http.Error(w, `{"error":"bad token"}`, http.StatusBadRequest)
				return
			}
			off, _ = strconv.Atoi(string(b))
		}
		recs := []any{}
		for i := off; i < len(in) && i < off+f.PageSize; i++ {
			if rec := record(in[i]); rec != nil {
				recs = append(recs, rec)
			}
		}
		var next any
		if off+f.PageSize < len(in) {
			next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(off + f.PageSize)))
		}
		if f.Kind == "OURA" {
			writeJSON(w, map[string]any{"data": recs, "next_token": next})
			return
		}
		writeJSON(w, map[string]any{"records": recs, "next_token": next})
	}
}

func (f *Fake) window(q url.Values) (time.Time, time.Time, error) {
	if f.Kind == "OURA" {
		s, err1 := time.Parse(time.DateOnly, q.Get("start_date"))
		e, err2 := time.Parse(time.DateOnly, q.Get("end_date"))
		if err1 != nil || err2 != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("bad dates")
		}
		return s, e, nil
	}
	s, err1 := time.Parse(time.RFC3339, q.Get("start"))
	e, err2 := time.Parse(time.RFC3339, q.Get("end"))
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("bad times")
	}
	return s, e, nil
}

// sleepID is the WHOOP sleep UUID-like id of a night.
func sleepID(d Day) string {
	sum := sha256.Sum256([]byte(d.End.UTC().Format(time.RFC3339)))
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func cycleID(d Day) int64 { return d.End.Unix() / 86400 }

func ms(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// whoopSleep is a SCORED v2 sleep of 8 h in bed, 7 h asleep.
func (f *Fake) whoopSleep(d Day) any {
	start := d.End.Add(-8 * time.Hour)
	return map[string]any{
		"id": sleepID(d), "cycle_id": cycleID(d), "user_id": mustInt(f.AccountID),
		"created_at": ms(d.End.Add(20 * time.Minute)), "updated_at": ms(d.Updated),
		"start": ms(start), "end": ms(d.End), "timezone_offset": d.Offset, "nap": false, "score_state": "SCORED",
		"score": map[string]any{
			"stage_summary": map[string]any{
				"total_in_bed_time_milli": 8 * 3600000, "total_awake_time_milli": 3600000, "total_no_data_time_milli": 0,
				"total_light_sleep_time_milli": 4 * 3600000, "total_slow_wave_sleep_time_milli": 1.5 * 3600000,
				"total_rem_sleep_time_milli": 1.5 * 3600000, "sleep_cycle_count": 5, "disturbance_count": 2,
			},
			"respiratory_rate": 15.5, "sleep_performance_percentage": 88, "sleep_consistency_percentage": 80,
			"sleep_efficiency_percentage": 87.5,
		},
	}
}

// whoopRecovery is a SCORED v2 recovery linked to the night's sleep.
func (f *Fake) whoopRecovery(d Day) any {
	return map[string]any{
		"cycle_id": cycleID(d), "sleep_id": sleepID(d), "user_id": mustInt(f.AccountID),
		"created_at": ms(d.End.Add(25 * time.Minute)), "updated_at": ms(d.Updated), "score_state": "SCORED",
		"score": map[string]any{
			"user_calibrating": false, "recovery_score": 66, "resting_heart_rate": d.RestingHR,
			"hrv_rmssd_milli": d.HRV, "spo2_percentage": 96.5, "skin_temp_celsius": 33.7,
		},
	}
}

// whoopCycle is a finished, SCORED v2 cycle that started at the wake time.
func (f *Fake) whoopCycle(d Day) any {
	return map[string]any{
		"id": cycleID(d), "user_id": mustInt(f.AccountID), "created_at": ms(d.End), "updated_at": ms(d.Updated),
		"start": ms(d.End), "end": ms(d.End.Add(16 * time.Hour)), "timezone_offset": d.Offset, "score_state": "SCORED",
		"score": map[string]any{"strain": 11.2, "kilojoule": 8000, "average_heart_rate": 70, "max_heart_rate": 150},
	}
}

// ouraTime is t at the night's offset, as Oura writes local times.
func ouraTime(t time.Time, offset string) string {
	loc := time.UTC
	if o, err := time.Parse("-07:00", offset); err == nil {
		_, secs := o.Zone()
		loc = time.FixedZone("", secs)
	}
	return t.In(loc).Format("2006-01-02T15:04:05.000-07:00")
}

// ouraSleep is a v2 long_sleep document.
func (f *Fake) ouraSleep(d Day) any {
	start := d.End.Add(-8 * time.Hour)
	return map[string]any{
		"id": sleepID(d), "day": ouraTime(d.End, d.Offset)[:10], "type": "long_sleep",
		"bedtime_start": ouraTime(start, d.Offset), "bedtime_end": ouraTime(d.End, d.Offset),
		"total_sleep_duration": 7 * 3600, "time_in_bed": 8 * 3600, "awake_time": 3600,
		"deep_sleep_duration": 5400, "light_sleep_duration": 14400, "rem_sleep_duration": 5400,
		"efficiency": 88, "average_hrv": d.HRV, "lowest_heart_rate": d.RestingHR, "average_heart_rate": 58,
		"average_breath": 14.5,
	}
}

// ouraReadiness is a v2 daily_readiness document for the night's day.
func (f *Fake) ouraReadiness(d Day) any {
	return map[string]any{
		"id": "r-" + sleepID(d), "day": ouraTime(d.End, d.Offset)[:10], "score": 80, "temperature_deviation": -0.1,
		"timestamp": ouraTime(d.End, d.Offset),
	}
}

// Issued reports whether tok was ever issued as an access or refresh
// token and is still valid.
func (f *Fake) Issued(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.access[tok] || f.refresh[tok]
}

// ValidTokens returns every valid access and refresh token.
func (f *Fake) ValidTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for t := range f.access {
		out = append(out, t)
	}
	for t := range f.refresh {
		out = append(out, t)
	}
	return out
}
