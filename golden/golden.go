// Package golden runs the golden scenarios of docs/domain.md (G1–G4 plus a DST
// day, duplicate sources and a rescored record) through the real GraphQL
// API — ingest provider files → provider connections → interventions →
// adherence → loop — and renders the outcome as canonical JSON (fixed clock,
// IDs masked) for regression tests and the demo seed.
package golden

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"time"

	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
)

// Scenario is a case's scenario.json (see golden/README.md).
type Scenario struct {
	Timezone            string               `json:"timezone"`
	Clock               time.Time            `json:"clock"`
	ProviderConnections []ProviderConnection `json:"provider_connections"`
	Interventions       []Intervention       `json:"interventions"`
	Steps               []Step               `json:"steps"`

	shift int // days every time and day was moved by (Shifted)
}

// Shifted returns the scenario with every time and day moved by days
// calendar days (wall-clock times keep their offsets); its samples are
// moved as they are ingested.
func (s Scenario) Shifted(days int) Scenario {
	if days == 0 {
		return s
	}
	at := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.AddDate(0, 0, days)
		return &u
	}
	out := s
	out.shift = s.shift + days
	out.Clock = s.Clock.AddDate(0, 0, days)
	out.ProviderConnections = make([]ProviderConnection, len(s.ProviderConnections))
	for i, pc := range s.ProviderConnections {
		pc.DisconnectedAt = at(pc.DisconnectedAt)
		out.ProviderConnections[i] = pc
	}
	out.Interventions = make([]Intervention, len(s.Interventions))
	for i, iv := range s.Interventions {
		iv.StartDay = shiftDay(iv.StartDay, days)
		iv.EvaluateOn = shiftDay(iv.EvaluateOn, days)
		adh := make(map[string]bool, len(iv.Adherence))
		for d, v := range iv.Adherence {
			adh[shiftDay(d, days)] = v
		}
		iv.Adherence = adh
		out.Interventions[i] = iv
	}
	out.Steps = make([]Step, len(s.Steps))
	for i, st := range s.Steps {
		st.At = st.At.AddDate(0, 0, days)
		st.DisconnectedAt = at(st.DisconnectedAt)
		st.Through = shiftDay(st.Through, days)
		out.Steps[i] = st
	}
	return out
}

// shiftDay moves a YYYY-MM-DD day by days; anything else (an empty field)
// is returned as it is.
func shiftDay(day string, days int) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil || days == 0 {
		return day
	}
	return d.AddDate(0, 0, days).Format(time.DateOnly)
}

// Step is one action of the scenario at a simulated time (golden/README.md).
type Step struct {
	At             time.Time  `json:"at"`
	Action         string     `json:"action"` // ingest, start_intervention, log_adherence, set_connection, run_loop, evaluate
	Provider       string     `json:"provider"`
	File           string     `json:"file"`
	Samples        int        `json:"samples"`
	Intervention   *int       `json:"intervention"`
	Through        string     `json:"through"`
	Status         string     `json:"status"`
	DisconnectedAt *time.Time `json:"disconnected_at"`
}

// ProviderConnection is a connection state to record before the loop runs.
type ProviderConnection struct {
	Provider       string     `json:"provider"`
	Status         string     `json:"status"`
	DisconnectedAt *time.Time `json:"disconnected_at"`
}

// Intervention is an experiment of the scenario.
type Intervention struct {
	Title             string          `json:"title"`
	ProtocolKind      string          `json:"protocolKind"`
	TargetMetric      string          `json:"targetMetric"`
	ExpectedDirection string          `json:"expectedDirection"`
	PlannedDays       int             `json:"plannedDays"`
	LagDays           int             `json:"lagDays"`
	StartDay          string          `json:"startDay"`
	Adherence         map[string]bool `json:"adherence"`
	EvaluateOn        string          `json:"evaluateOn"`
}

// Client speaks GraphQL as one dev-mode user, over HTTP to BaseURL when it
// is set, else to Handler in-process.
type Client struct {
	BaseURL string
	Handler http.Handler
	UserID  string // sent as X-Debug-User
}

// Do runs one operation and decodes data into out; GraphQL errors fail.
func (c *Client) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	raw, status, err := c.post(ctx, body)
	if err != nil {
		return err
	}
	var resp struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("status %d: %s", status, raw)
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("graphql errors: %s", bytes.Join(toBytes(resp.Errors), []byte(", ")))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(resp.Data, out)
}

func (c *Client) post(ctx context.Context, body []byte) ([]byte, int, error) {
	if c.BaseURL == "" {
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Debug-User", c.UserID)
		rec := httptest.NewRecorder()
		c.Handler.ServeHTTP(rec, req)
		return rec.Body.Bytes(), rec.Code, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Debug-User", c.UserID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

func toBytes(rs []json.RawMessage) [][]byte {
	out := make([][]byte, len(rs))
	for i, r := range rs {
		out[i] = r
	}
	return out
}

// LoadScenario reads scenario.json of the case in dir.
func LoadScenario(fsys fs.FS, dir string) (Scenario, error) {
	var s Scenario
	b, err := fs.ReadFile(fsys, path.Join(dir, "scenario.json"))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s/scenario.json: %w", dir, err)
	}
	return s, nil
}

// Run pushes the case in dir through the API step by step, pinning the
// server's clock (setClock) to each step's time.
func Run(ctx context.Context, c *Client, fsys fs.FS, dir string, setClock func(time.Time)) error {
	return RunShifted(ctx, c, fsys, dir, setClock, 0)
}

// RunShifted is Run with every time and day of the case, its samples
// included, moved by days calendar days (the demo seed moves the cases so
// that their data ends yesterday).
func RunShifted(ctx context.Context, c *Client, fsys fs.FS, dir string, setClock func(time.Time), days int) error {
	sc, err := LoadScenario(fsys, dir)
	if err != nil {
		return err
	}
	sc = sc.Shifted(days)
	if len(sc.Steps) == 0 {
		return fmt.Errorf("%s: scenario has no steps", dir)
	}
	setClock(sc.Steps[0].At)
	if err := c.Do(ctx, `mutation($tz: String!) { setTimezone(timezone: $tz) { id } }`, map[string]any{"tz": sc.Timezone}, nil); err != nil {
		return fmt.Errorf("%s: timezone: %w", dir, err)
	}
	for _, pc := range sc.ProviderConnections {
		if err := setConnection(ctx, c, pc.Provider, pc.Status, pc.DisconnectedAt); err != nil {
			return err
		}
	}
	ids := make([]string, len(sc.Interventions))
	for i, st := range sc.Steps {
		setClock(st.At)
		if err := runStep(ctx, c, fsys, dir, sc, st, ids); err != nil {
			return fmt.Errorf("%s step %d (%s): %w", dir, i, st.Action, err)
		}
	}
	setClock(sc.Clock)
	return nil
}

func runStep(ctx context.Context, c *Client, fsys fs.FS, dir string, sc Scenario, st Step, ids []string) error {
	iv := func() (int, error) {
		if st.Intervention == nil || *st.Intervention < 0 || *st.Intervention >= len(sc.Interventions) {
			return 0, fmt.Errorf("bad intervention index")
		}
		return *st.Intervention, nil
	}
	switch st.Action {
	case "ingest":
		return ingest(ctx, c, fsys, dir, st, sc.shift)
	case "set_connection":
		at := st.DisconnectedAt
		if at == nil {
			at = &st.At
		}
		return setConnection(ctx, c, st.Provider, st.Status, at)
	case "start_intervention":
		i, err := iv()
		if err != nil {
			return err
		}
		it := sc.Interventions[i]
		var out struct {
			StartIntervention struct {
				Started      bool                `json:"started"`
				Message      string              `json:"message"`
				Intervention struct{ ID string } `json:"intervention"`
			} `json:"startIntervention"`
		}
		if err := c.Do(ctx, `mutation($in: StartInterventionInput!) { startIntervention(input: $in) { started message intervention { id } } }`,
			map[string]any{"in": map[string]any{
				"title": it.Title, "protocolKind": it.ProtocolKind, "targetMetric": it.TargetMetric,
				"expectedDirection": it.ExpectedDirection, "plannedDays": it.PlannedDays, "lagDays": it.LagDays,
				"startDay": it.StartDay,
			}}, &out); err != nil {
			return err
		}
		ids[i] = out.StartIntervention.Intervention.ID
		return nil
	case "log_adherence":
		i, err := iv()
		if err != nil {
			return err
		}
		days := make([]string, 0, len(sc.Interventions[i].Adherence))
		for d := range sc.Interventions[i].Adherence {
			if st.Through == "" || d <= st.Through {
				days = append(days, d)
			}
		}
		sort.Strings(days)
		for _, d := range days {
			if err := c.Do(ctx, `mutation($id: ID!, $d: String!, $a: Boolean!) { logAdherence(interventionID: $id, day: $d, adherent: $a) { id } }`,
				map[string]any{"id": ids[i], "d": d, "a": sc.Interventions[i].Adherence[d]}, nil); err != nil {
				return fmt.Errorf("adherence %s: %w", d, err)
			}
		}
		return nil
	case "run_loop":
		return c.Do(ctx, `mutation { runLoop { insightsCreated } }`, nil, nil)
	case "evaluate":
		i, err := iv()
		if err != nil {
			return err
		}
		return c.Do(ctx, `mutation($id: ID!) { evaluateIntervention(id: $id) { id } }`, map[string]any{"id": ids[i]}, nil)
	}
	return fmt.Errorf("unknown action %q", st.Action)
}

// ingest parses one provider file and sends it as one batch per 1000 samples.
func ingest(ctx context.Context, c *Client, fsys fs.FS, dir string, st Step, days int) error {
	b, err := fs.ReadFile(fsys, path.Join(dir, st.File))
	if err != nil {
		return err
	}
	res, err := providers.Parse(st.Provider, b)
	if err != nil {
		return fmt.Errorf("%s: %w", st.File, err)
	}
	if len(res.Samples) != st.Samples {
		return fmt.Errorf("%s: parsed %d samples, scenario says %d", st.File, len(res.Samples), st.Samples)
	}
	for i := range res.Samples {
		s := &res.Samples[i]
		s.ObservedAt = s.ObservedAt.AddDate(0, 0, days)
		s.LocalDay = shiftDay(s.LocalDay, days)
	}
	for i := 0; i < len(res.Samples); i += 1000 {
		if err := ingestBatch(ctx, c, res.Samples[i:min(i+1000, len(res.Samples))]); err != nil {
			return fmt.Errorf("%s: %w", st.File, err)
		}
	}
	return nil
}

func ingestBatch(ctx context.Context, c *Client, batch []metrics.Sample) error {
	input := make([]map[string]any, len(batch))
	for j, s := range batch {
		input[j] = map[string]any{
			"metric": s.Metric, "value": s.Value, "unit": s.Unit,
			"observedAt": s.ObservedAt.Format(time.RFC3339Nano), "localDay": s.LocalDay,
			"utcOffsetSeconds": s.UTCOffsetSeconds, "source": s.Source,
		}
	}
	return c.Do(ctx, `mutation($in: [ObservationInput!]!) { ingestObservations(input: $in) { inserted } }`,
		map[string]any{"in": input}, nil)
}

func setConnection(ctx context.Context, c *Client, provider, status string, at *time.Time) error {
	vars := map[string]any{"p": provider, "s": status}
	if at != nil {
		vars["at"] = at.Format(time.RFC3339)
	}
	return c.Do(ctx, `mutation($p: ProviderConnectionProvider!, $s: ProviderConnectionStatus!, $at: Time) {
		setProviderConnection(provider: $p, status: $s, at: $at) { id } }`, vars, nil)
}
