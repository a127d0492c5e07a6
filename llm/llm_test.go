package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/evidence"
	"github.com/vitalgraph/vitalgraph/engine/narrate"
	"github.com/vitalgraph/vitalgraph/engine/series"
)

const (
	testKey  = "sk-test-secret-key"
	boundary = "Do not replace caffeine with other stimulants. Stop and talk to a clinician if you feel faint, dizzy or unwell. Do not change prescribed medication without your doctor."
)

func ptr(v float64) *float64 { return &v }

// facts are golden case G2 (grade B, 60% coverage, 80% adherence).
func facts() narrate.Facts {
	return narrate.Facts{
		Subject: "No caffeine after 2pm", MetricKey: "sleep_duration", MetricName: "sleep duration", Unit: "min",
		Direction: narrate.DirectionIncrease, Grade: evidence.GradeB,
		Delta: 25, CILow: 6.4, CIHigh: 43.6, N: 18, M: 25, Coverage: 0.6, Adherence: ptr(0.8), MDE: 30,
		Confounders: []string{"travel"}, SafetyText: boundary, Reliable: true, DirectionSupported: true,
		PeriodFrom: series.DayOf(2025, time.March, 3), PeriodTo: series.DayOf(2025, time.April, 1),
	}
}

const compliant = "For you during this experiment, No caffeine after 2pm probably increased your sleep duration by about 25 min " +
	"(95% CI 6.4 to 43.6 min; n = 18 days; coverage 60%; adherence 80%). The estimate is uncertain, and travel may explain part of it. " + boundary

// upstream is a local OpenAI-compatible test server.
type upstream struct {
	srv      *httptest.Server
	requests atomic.Int32
	mu       sync.Mutex
	last     *http.Request
	lastBody []byte
}

// newUpstream starts a server whose n-th request (1-based) is answered by
// handle.
func newUpstream(t *testing.T, handle func(n int32, w http.ResponseWriter, r *http.Request)) *upstream {
	t.Helper()
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := u.requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.last, u.lastBody = r, body
		u.mu.Unlock()
		handle(n, w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func answer(w http.ResponseWriter, content string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion",
		"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
	})
}

func (u *upstream) narrator(t *testing.T, timeout time.Duration) *Narrator {
	t.Helper()
	c, err := NewClient(Config{BaseURL: u.srv.URL + "/v1/", Model: "test-model", APIKey: testKey}, nil)
	require.NoError(t, err)
	return &Narrator{Client: c, Timeout: timeout}
}

// TestDirectionWithoutSupportIsReplaced: the same answer when the 95%
// interval includes zero states a direction the evidence does not support
// ("probably increased" about noise), so the template replaces it.
func TestDirectionWithoutSupportIsReplaced(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, func(_ int32, w http.ResponseWriter, _ *http.Request) { answer(w, compliant) })
	f := facts()
	f.CILow, f.DirectionSupported = -2.5, false
	res := u.narrator(t, 0).Narrate(context.Background(), f)
	require.True(t, res.Replaced)
	require.Equal(t, ReasonClaimViolation, res.ReplaceReason)
	require.NotContains(t, res.Narrative.Text, "probably increased")
	require.Contains(t, res.Narrative.Text, "no clear change")
}

func TestNarrateKeepsCompliantAnswer(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, func(_ int32, w http.ResponseWriter, _ *http.Request) { answer(w, compliant) })
	f := facts()
	res := u.narrator(t, 0).Narrate(context.Background(), f)

	require.False(t, res.Replaced)
	require.Empty(t, res.ReplaceReason)
	require.NoError(t, res.Err)
	require.Equal(t, narrate.Narrative{Text: compliant, Source: narrate.SourceLLM, Grade: evidence.GradeB}, res.Narrative)
	require.Equal(t, int32(1), u.requests.Load())

	// Request shape: method, path, headers and exactly {model, messages, temperature: 0}.
	u.mu.Lock()
	defer u.mu.Unlock()
	require.Equal(t, http.MethodPost, u.last.Method)
	require.Equal(t, "/v1/chat/completions", u.last.URL.Path)
	require.Equal(t, "Bearer "+testKey, u.last.Header.Get("Authorization"))
	require.Equal(t, "application/json", u.last.Header.Get("Content-Type"))
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(u.lastBody, &body))
	require.Len(t, body, 3)
	require.JSONEq(t, `"test-model"`, string(body["model"]))
	require.JSONEq(t, `0`, string(body["temperature"]))
	var msgs []narrate.Message
	require.NoError(t, json.Unmarshal(body["messages"], &msgs))
	require.Equal(t, narrate.Prompt(f).Messages, msgs)
	require.Equal(t, []string{"system", "user"}, []string{msgs[0].Role, msgs[1].Role})
}

func TestNarrateReplaces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timeout  time.Duration
		handle   func(n int32, w http.ResponseWriter, r *http.Request)
		reason   string
		requests int32
	}{
		{
			name: "violating answer",
			handle: func(_ int32, w http.ResponseWriter, _ *http.Request) {
				answer(w, "No caffeine after 2pm cures insomnia. Keep going even if you feel dizzy.")
			},
			reason:   ReasonClaimViolation,
			requests: 1,
		},
		{
			name:    "slow answer times out",
			timeout: 200 * time.Millisecond,
			handle: func(_ int32, w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				answer(w, compliant)
			},
			reason:   ReasonTimeout,
			requests: 1,
		},
		{
			name: "500 is retried once, then replaced",
			handle: func(_ int32, w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "boom", http.StatusInternalServerError)
			},
			reason:   ReasonUpstreamError,
			requests: 2,
		},
		{
			name: "4xx is not retried",
			handle: func(_ int32, w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "bad key", http.StatusUnauthorized)
			},
			reason:   ReasonUpstreamError,
			requests: 1,
		},
		{
			name: "transport error is retried once",
			handle: func(_ int32, w http.ResponseWriter, _ *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.Close()
				}
			},
			reason:   ReasonUpstreamError,
			requests: 2,
		},
		{
			name:     "no choices",
			handle:   func(_ int32, w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"choices":[]}`) },
			reason:   ReasonUpstreamError,
			requests: 1,
		},
		{
			name:     "malformed JSON",
			handle:   func(_ int32, w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"choices":`) },
			reason:   ReasonUpstreamError,
			requests: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(t, tc.handle)
			f := facts()
			res := u.narrator(t, tc.timeout).Narrate(context.Background(), f)

			require.True(t, res.Replaced)
			require.Equal(t, tc.reason, res.ReplaceReason)
			require.Equal(t, narrate.Template(f), res.Narrative)
			require.Equal(t, tc.requests, u.requests.Load())
			if tc.reason == ReasonClaimViolation {
				require.NotEmpty(t, res.Violations)
				require.NoError(t, res.Err)
			} else {
				require.Error(t, res.Err)
				require.Equal(t, engine.EINTERNAL, engine.ErrorCode(res.Err))
				require.NotContains(t, res.Err.Error(), testKey)
			}
			if tc.timeout > 0 {
				require.GreaterOrEqual(t, res.LatencyMS, tc.timeout.Milliseconds())
				require.Less(t, res.LatencyMS, int64(3000))
			}
		})
	}
}

func TestRetrySucceedsAfter5xx(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, func(n int32, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			http.Error(w, "busy", http.StatusBadGateway)
			return
		}
		answer(w, compliant)
	})
	res := u.narrator(t, 0).Narrate(context.Background(), facts())
	require.False(t, res.Replaced)
	require.Equal(t, int32(2), u.requests.Load())
}

func TestNoRetryWhenDisabled(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, func(_ int32, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	c, err := NewClient(Config{BaseURL: u.srv.URL, Model: "m", MaxRetries: -1}, nil)
	require.NoError(t, err)
	_, err = c.Complete(context.Background(), narrate.Prompt(facts()))
	require.Error(t, err)
	require.Equal(t, int32(1), u.requests.Load())
	u.mu.Lock()
	defer u.mu.Unlock()
	require.Empty(t, u.last.Header.Get("Authorization"), "no key, no header")
}

func TestNarrateWithoutClientUsesTemplate(t *testing.T) {
	t.Parallel()
	f := facts()
	for _, n := range []*Narrator{nil, {}, {Timeout: time.Second}} {
		res := n.Narrate(context.Background(), f)
		require.Equal(t, Result{Narrative: narrate.Template(f)}, res)
	}
}

func TestNarrateCanceledByCaller(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, func(_ int32, w http.ResponseWriter, _ *http.Request) { answer(w, compliant) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := u.narrator(t, 0).Narrate(ctx, facts())
	require.True(t, res.Replaced)
	require.Equal(t, ReasonCanceled, res.ReplaceReason)
}

func TestClientTimeoutBoundsRetries(t *testing.T) {
	t.Parallel()
	u := newUpstream(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	c, err := NewClient(Config{BaseURL: u.srv.URL, Model: "m", APIKey: testKey, Timeout: 150 * time.Millisecond}, nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Complete(context.Background(), narrate.Prompt(facts()))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Equal(t, int32(1), u.requests.Load(), "no retry past the deadline")
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"valid", Config{BaseURL: "https://api.example.com/v1", Model: "m"}, true},
		{"missing model", Config{BaseURL: "https://api.example.com/v1"}, false},
		{"missing base URL", Config{Model: "m"}, false},
		{"relative URL", Config{BaseURL: "api.example.com", Model: "m"}, false},
		{"bad scheme", Config{BaseURL: "ftp://api.example.com", Model: "m"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tc.cfg, nil)
			if !tc.ok {
				require.Equal(t, engine.EINVALID, engine.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, DefaultTimeout, c.Config().Timeout)
			require.Equal(t, DefaultMaxRetries, c.Config().MaxRetries)
		})
	}
	require.False(t, Config{}.Enabled())
}

func TestConfigNeverPrintsKey(t *testing.T) {
	t.Parallel()
	cfg := Config{BaseURL: "https://api.example.com/v1", Model: "m", APIKey: testKey}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "llm", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), logs.String()} {
		require.NotContains(t, s, testKey)
		require.Contains(t, s, "redacted")
	}
}
