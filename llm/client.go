// Package llm is the optional LLM narrator: an OpenAI-compatible
// chat-completions client and a Narrator that gates every answer through
// narrate.Finalize.
//
// It is a top-level package, not part of engine/, because it is Vitalgraph's
// one outbound network adapter: engine/** stays pure (no I/O), and this
// package is the only place that talks to a model provider. It never logs;
// the API key is sent only in the Authorization header and is redacted from
// Config's String, GoString and slog representations and from every error.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/narrate"
)

// Defaults (docs/design.md guardrails: 3000 ms narrative generation).
const (
	DefaultTimeout    = 3000 * time.Millisecond
	DefaultMaxRetries = 1
	// maxResponseBytes bounds how much of a response body is read.
	maxResponseBytes = 1 << 20
)

// Config configures the chat-completions client.
type Config struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1";
	// "/chat/completions" is appended. http or https.
	BaseURL string
	// Model is sent as "model".
	Model string
	// APIKey is sent as "Authorization: Bearer <APIKey>"; empty sends no
	// Authorization header (local servers). Never logged.
	APIKey string
	// Timeout is the total deadline of one Complete call, retries included;
	// ≤ 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt, on 5xx
	// responses and transport errors only; 0 means DefaultMaxRetries and a
	// negative value disables retries.
	MaxRetries int
}

// Enabled reports whether c names a server and a model, i.e. whether the
// LLM narrator should be turned on at all.
func (c Config) Enabled() bool {
	return strings.TrimSpace(c.BaseURL) != "" && strings.TrimSpace(c.Model) != ""
}

// withDefaults returns c with the documented defaults applied.
func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	c.Model = strings.TrimSpace(c.Model)
	return c
}

func (c Config) redactedKey() string {
	if c.APIKey == "" {
		return ""
	}
	return "[redacted]"
}

// String implements fmt.Stringer without the API key.
func (c Config) String() string {
	return fmt.Sprintf("llm.Config{BaseURL:%q Model:%q APIKey:%q Timeout:%s MaxRetries:%d}",
		c.BaseURL, c.Model, c.redactedKey(), c.Timeout, c.MaxRetries)
}

// GoString implements fmt.GoStringer without the API key.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the API key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL), slog.String("model", c.Model),
		slog.String("api_key", c.redactedKey()), slog.Duration("timeout", c.Timeout),
		slog.Int("max_retries", c.MaxRetries),
	)
}

// Client is an OpenAI-compatible chat-completions client. It is safe for
// concurrent use.
type Client struct {
	cfg      Config
	endpoint string
	hc       *http.Client
}

// NewClient returns a client for cfg (defaults applied) that sends requests
// with hc (a new http.Client when nil). It returns *engine.Error EINVALID
// when the base URL or model is missing or the base URL is not an absolute
// http(s) URL.
func NewClient(cfg Config, hc *http.Client) (*Client, error) {
	cfg = cfg.withDefaults()
	if !cfg.Enabled() {
		return nil, engine.Errorf(engine.EINVALID, "the LLM narrator needs a base URL and a model")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, engine.Errorf(engine.EINVALID, "the LLM base URL must be an absolute http(s) URL")
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: cfg, endpoint: cfg.BaseURL + "/chat/completions", hc: hc}, nil
}

// Config returns the client's configuration with defaults applied.
func (c *Client) Config() Config { return c.cfg }

// chatRequest is the wire body: temperature is always sent, as 0.
type chatRequest struct {
	Model       string            `json:"model"`
	Messages    []narrate.Message `json:"messages"`
	Temperature float64           `json:"temperature"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

// Complete POSTs {model, messages, temperature: 0} to BaseURL +
// "/chat/completions" and returns choices[0].message.content. The whole
// call, retries included, is bounded by Config.Timeout (and ctx). A 5xx
// response or a transport error is retried up to MaxRetries times while the
// deadline allows; other failures are not. Errors are *engine.Error
// EINTERNAL with a user-safe message; a deadline or cancellation is in the
// chain (errors.Is(err, context.DeadlineExceeded) / context.Canceled). No
// error mentions the API key.
func (c *Client) Complete(ctx context.Context, req narrate.ChatRequest) (string, error) {
	if c == nil {
		return "", engine.Errorf(engine.EINTERNAL, "the LLM narrator is not configured")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	body, err := json.Marshal(chatRequest{Model: c.cfg.Model, Messages: req.Messages, Temperature: 0})
	if err != nil {
		return "", engine.Wrap(err, engine.EINTERNAL, "could not encode the narrative request")
	}
	var lastErr error
	for range 1 + c.cfg.MaxRetries {
		text, retry, err := c.attempt(ctx, body)
		if err == nil {
			return text, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return "", lastErr
}

// attempt makes one request; retry reports whether a failure may be retried.
func (c *Client) attempt(ctx context.Context, body []byte) (text string, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", false, engine.Wrap(err, engine.EINTERNAL, "could not build the narrative request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", true, engine.Wrap(transportCause(ctx, err), engine.EINTERNAL, "the narrative service could not be reached")
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", true, engine.Wrap(transportCause(ctx, err), engine.EINTERNAL, "the narrative service response could not be read")
	}
	if resp.StatusCode >= 500 {
		return "", true, engine.Errorf(engine.EINTERNAL, "the narrative service failed (HTTP %d)", resp.StatusCode).
			WithDetails("status", resp.StatusCode)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", false, engine.Errorf(engine.EINTERNAL, "the narrative service refused the request (HTTP %d)", resp.StatusCode).
			WithDetails("status", resp.StatusCode)
	}
	var out chatResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return "", false, engine.Wrap(err, engine.EINTERNAL, "the narrative service returned malformed JSON")
	}
	if len(out.Choices) == 0 {
		return "", false, engine.Errorf(engine.EINTERNAL, "the narrative service returned no choices")
	}
	return out.Choices[0].Message.Content, false, nil
}

// transportCause keeps the context's error in the chain when the request
// failed because of it, and otherwise drops the *url.Error wrapper so that
// the request URL does not travel with the error.
func transportCause(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
