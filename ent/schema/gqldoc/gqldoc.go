// Package gqldoc is an entgql schema hook (ent/entc.go) that gives the
// generated GraphQL schema the descriptions entgql leaves out: each entity
// type's schema.Comment, every where-input predicate, order fields and the
// pagination arguments. Field descriptions come from field.Comment; edge
// descriptions from edge.Comment (entgql leaves those out too).
package gqldoc

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"entgo.io/ent/entc/gen"
	entschema "entgo.io/ent/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Hook implements entgql.SchemaHook.
func Hook(g *gen.Graph, s *ast.Schema) error {
	for _, n := range g.Nodes {
		def := s.Types[n.Name]
		if def == nil {
			continue
		}
		if def.Description == "" {
			def.Description = typeComment(n)
		}
		for _, e := range n.Edges {
			if f := def.Fields.ForName(camel(e.Name)); f != nil && f.Description == "" {
				f.Description = e.Comment()
			}
		}
	}
	if q := s.Types["Query"]; q != nil {
		if q.Description == "" {
			q.Description = "Every read of the API. Users see only their own data; admins see everyone's."
		}
		for _, f := range q.Fields {
			if f.Description == "" && f.Type.Name() != "" && strings.HasSuffix(f.Type.Name(), "Connection") {
				f.Description = "The viewer's " + strings.TrimSuffix(f.Type.Name(), "Connection") + " rows (admins: everyone's), paginated, ordered and filtered."
			}
		}
	}
	for key, text := range enumValues {
		typ, value, _ := strings.Cut(key, ".")
		if def := s.Types[typ]; def != nil {
			if v := def.EnumValues.ForName(value); v != nil && v.Description == "" {
				v.Description = text
			}
		}
	}
	names := make([]string, 0, len(s.Types))
	for name := range s.Types {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def := s.Types[name]
		switch {
		case def.Kind == ast.InputObject && strings.HasSuffix(name, "WhereInput"):
			for _, f := range def.Fields {
				if f.Description == "" || strings.HasSuffix(f.Description, " field predicates") || strings.HasSuffix(f.Description, " edge predicates") {
					f.Description = predicate(strings.TrimSuffix(name, "WhereInput"), f.Name)
				}
			}
		case def.Kind == ast.Enum && strings.HasSuffix(name, "OrderField"):
			for _, v := range def.EnumValues {
				if v.Description == "" {
					v.Description = "Order by " + strings.ToLower(strings.ReplaceAll(v.Name, "_", " ")) + "."
				}
			}
		case def.Kind == ast.InputObject && strings.HasSuffix(name, "Order"):
			for _, f := range def.Fields {
				switch f.Name {
				case "direction":
					f.Description = "The ordering direction."
				case "field":
					f.Description = "The field by which to order " + strings.TrimSuffix(name, "Order") + "s."
				}
			}
		}
		for _, f := range def.Fields {
			for _, a := range f.Arguments {
				if a.Description == "" {
					a.Description = pageArgs[a.Name]
				}
			}
		}
	}
	return nil
}

var pageArgs = map[string]string{
	"after":   "Returns the elements in the list that come after the specified cursor.",
	"first":   "Returns the first n elements from the list (at most 100; default 20).",
	"before":  "Returns the elements in the list that come before the specified cursor.",
	"last":    "Returns the last n elements from the list (at most 100).",
	"orderBy": "Ordering options for the returned elements.",
	"where":   "Filtering options for the returned elements.",
}

// camel is entgql's GraphQL name of an ent edge: adherence_logs → adherenceLogs.
func camel(name string) string {
	parts := strings.Split(name, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// typeComment returns the schema.Comment annotation of n.
func typeComment(n *gen.Type) string {
	ant := &entschema.CommentAnnotation{}
	if n.Annotations == nil || n.Annotations[ant.Name()] == nil {
		return ""
	}
	if b, err := json.Marshal(n.Annotations[ant.Name()]); err == nil {
		_ = json.Unmarshal(b, ant)
	}
	return ant.Text
}

// suffixes of entgql's where-input predicates, longest first where one
// ends another.
var suffixes = []struct{ suffix, text string }{
	{"ContainsFold", "%s contains the value, ignoring case."},
	{"EqualFold", "%s equals the value, ignoring case."},
	{"HasPrefix", "%s starts with the value."},
	{"HasSuffix", "%s ends with the value."},
	{"Contains", "%s contains the value."},
	{"NotNil", "%s is set (true)."},
	{"IsNil", "%s is not set (true)."},
	{"NotIn", "%s is none of the values."},
	{"NEQ", "%s differs from the value."},
	{"GTE", "%s is greater than or equal to the value."},
	{"LTE", "%s is less than or equal to the value."},
	{"GT", "%s is greater than the value."},
	{"LT", "%s is less than the value."},
	{"In", "%s is one of the values."},
}

// predicate describes one where-input field of typ.
func predicate(typ, name string) string {
	switch name {
	case "not":
		return "The filter must not hold."
	case "and":
		return "Every filter of the list must hold."
	case "or":
		return "At least one filter of the list must hold."
	}
	if strings.HasPrefix(name, "has") && len(name) > 3 && name[3] >= 'A' && name[3] <= 'Z' {
		edge := strings.ToLower(name[3:4]) + name[4:]
		if e, ok := strings.CutSuffix(edge, "With"); ok {
			return fmt.Sprintf("The %s has %s matching at least one of the filters.", typ, e)
		}
		return fmt.Sprintf("The %s has %s (true) or has none (false).", typ, edge)
	}
	for _, s := range suffixes {
		if f, ok := strings.CutSuffix(name, s.suffix); ok && f != "" {
			return fmt.Sprintf(s.text, f)
		}
	}
	return name + " equals the value."
}

// enumValues describes the values of the entity enums (Type.VALUE).
var enumValues = map[string]string{
	"BaselineDetectorState.OK":                  "Insights are generated for this metric.",
	"BaselineDetectorState.CALIBRATING":         "Not enough history yet: the baseline is still forming.",
	"BaselineDetectorState.INSUFFICIENT_DATA":   "Too few recent days with data.",
	"BaselineDetectorState.PAUSED_DATA_QUALITY": "Paused: low coverage of the last 7 days.",
	"BaselineDetectorState.CONFLICTING_SOURCES": "Two sources disagree; no source is trusted over the other.",
	"BaselineDetectorState.FROZEN":              "The source is not connected: the baseline is frozen.",
	"BaselineState.CALIBRATING":                 "The baseline is still forming.",
	"BaselineState.INSUFFICIENT":                "Too little recent data for a baseline.",
	"BaselineState.READY":                       "The baseline is usable.",
	"BaselineState.FROZEN":                      "Frozen while the source is not connected.",
	"EvaluationClaim.DIRECTION":                 "The interval excludes zero and the grade allows stating a direction.",
	"EvaluationClaim.NO_CLEAR_CHANGE":           "Any real change is smaller than the metric's minimal important difference.",
	"EvaluationClaim.CANT_TELL":                 "The data cannot tell either way.",
	"EvidenceGrade.A":                           "Strongest: confidence ≥ 0.8, n ≥ 30, coverage ≥ 0.7 (an evaluation also needs an interval that excludes zero).",
	"EvidenceGrade.B":                           "Confidence ≥ 0.6, n ≥ 14, coverage ≥ 0.5.",
	"EvidenceGrade.C":                           "Confidence ≥ 0.4, n ≥ 7, coverage ≥ 0.3.",
	"EvidenceGrade.D":                           "Weakest: below grade C's thresholds.",
	"FeedEventKind.INSIGHT_CREATED":             "A new insight.",
	"FeedEventKind.INSIGHT_UPDATED":             "An insight changed (dismissed, acknowledged, superseded…).",
	"FeedEventKind.EVALUATION_CREATED":          "An experiment was evaluated.",
	"FeedEventKind.NARRATIVE_CREATED":           "A narrative was written.",
	"FeedEventKind.INTERVENTION_UPDATED":        "An experiment was started, reviewed, cancelled, completed or invalidated.",
	"FeedEventKind.AUDIT_EVENT":                 "An audit event was recorded.",
	"FeedEventKind.PROVIDER_SYNCED":             "A provider sync ended, successfully or not (the payload says which, with counts or the error).",
	"FeedEventKind.IMPORT_PROGRESS":             "A health-data import moved on: a phase started (reading, storing) or, at most every few seconds, counts grew (the payload holds counts only).",
	"FeedEventKind.IMPORT_COMPLETED":            "A health-data import ended, COMPLETED or FAILED (the payload says which, with counts or the error code).",
	"HealthImportFormat.APPLE_HEALTH":           "An Apple Health export: export.xml or the export's .zip.",
	"HealthImportFormat.CSV":                    "A CSV file read through a column mapping (CsvMappingInput).",
	"HealthImportStatus.QUEUED":                 "Uploaded and waiting for a worker.",
	"HealthImportStatus.RUNNING":                "A worker is reading and storing it; after a crash it resumes where it stopped.",
	"HealthImportStatus.COMPLETED":              "Every record was read; the counts say what was stored, already stored, rejected and skipped.",
	"HealthImportStatus.FAILED":                 "It stopped with an error (errorCode, errorMessage); the uploaded file is removed.",
	"InsightDismissReason.NOT_USEFUL":           "The insight was not useful.",
	"InsightDismissReason.WRONG":                "The insight was wrong.",
	"InsightDismissReason.ALREADY_KNEW":         "The person already knew.",
	"InsightKind.ANOMALY":                       "A day far outside the personal baseline.",
	"InsightKind.CHANGE":                        "A change point: a new level.",
	"InsightKind.TREND":                         "A steady drift over weeks.",
	"InsightKind.DATA_GAP":                      "Days without data.",
	"InsightKind.CONFLICTING_SOURCES":           "Two sources of the same metric disagree.",
	"InsightKind.DATA_QUALITY":                  "Too little recent data to generate insights.",
	"InsightStatus.ACTIVE":                      "Current and shown.",
	"InsightStatus.ACKNOWLEDGED":                "Seen by the person; still shown.",
	"InsightStatus.DISMISSED":                   "Dismissed with a reason; left out of the default lists.",
	"InsightStatus.SUPERSEDED":                  "A later finding on the same metric reversed it (see supersededBy).",
	"InsightStatus.SUPPRESSED":                  "Reserved; not produced today (would mean: found but held back, e.g. by a guardrail).",
	"InsightStatus.RESOLVED":                    "Reserved; not produced today (would mean: the finding no longer holds).",
	"InterventionDesign.BASELINE_AB":            "The 28 days before the start against the window after the lag.",
	"InterventionDesign.CROSSOVER":              "Randomized intervention and control blocks within cycles.",
	"InterventionExpectedDirection.INCREASE":    "The target metric is expected to rise.",
	"InterventionExpectedDirection.DECREASE":    "The target metric is expected to fall.",
	"InterventionRiskLevel.LOW":                 "Starts automatically.",
	"InterventionRiskLevel.MODERATE":            "Starts automatically; its boundary text says what to watch for.",
	"InterventionRiskLevel.HIGH":                "Never starts without an administrator's review.",
	"InterventionStatus.PENDING_REVIEW":         "HIGH risk: waits for approveIntervention or rejectIntervention.",
	"InterventionStatus.ACTIVE":                 "Running.",
	"InterventionStatus.COMPLETED":              "Ended; it can be evaluated.",
	"InterventionStatus.SUPPRESSED":             "Not started: the target metric was in a rapid swing.",
	"InterventionStatus.INVALIDATED":            "Stopped because it became unsafe, or rejected after review.",
	"InterventionStatus.CANCELLED":              "Cancelled by its owner; never evaluated.",
	"NarrativeSource.TEMPLATE":                  "Written by the template narrator.",
	"NarrativeSource.LLM":                       "Written by the LLM and passed the claim checker.",
	"NarrativeSubjectType.EVALUATION":           "The narrative explains an evaluation.",
	"NarrativeSubjectType.INSIGHT":              "The narrative explains an insight.",
	"ProviderConnectionProvider.WHOOP":          "WHOOP (payloads: ingestProviderPayload).",
	"ProviderConnectionProvider.OURA":           "Oura (payloads: ingestProviderPayload).",
	"ProviderConnectionProvider.APPLE_HEALTH":   "Apple Health / HealthKit exports (payloads: ingestProviderPayload).",
	"ProviderConnectionProvider.FITBIT":         "Fitbit (samples through ingestObservations).",
	"ProviderConnectionProvider.MANUAL":         "Values entered by hand.",
	"ProviderConnectionProvider.API":            "Values sent by another program through the API.",
	"ProviderConnectionStatus.CONNECTED":        "Data flows.",
	"ProviderConnectionStatus.DISCONNECTED":     "Disconnected: the source's baselines are frozen.",
	"ProviderConnectionStatus.REVOKED":          "Access revoked: the source's baselines are frozen.",
	"ProviderConnectionSyncStatus.IDLE":         "No sync pending (never synced, or disconnected).",
	"ProviderConnectionSyncStatus.QUEUED":       "A sync is queued (after connecting, syncProvider or a provider webhook).",
	"ProviderConnectionSyncStatus.SYNCING":      "A sync is running.",
	"ProviderConnectionSyncStatus.OK":           "The last sync succeeded (lastError counts any samples it left out).",
	"ProviderConnectionSyncStatus.ERROR":        "The last sync failed (see lastError); it is retried.",
	"UserRole.USER":                             "Sees and changes only their own data.",
	"UserRole.ADMIN":                            "Also reviews experiments and reads others' audit trails (audited).",
}
