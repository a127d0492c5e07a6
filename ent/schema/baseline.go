package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// Baseline is a user's personal baseline for one metric as of one day: the
// 60-day rolling median with its MAD band and the 7-day EWMA, or the state
// that explains why there is none (calibrating, insufficient, frozen).
type Baseline struct{ ent.Schema }

// Mixin of Baseline.
func (Baseline) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("bsl"), OwnedMixin{}, CreatedAtMixin{}}
}

// Fields of Baseline.
func (Baseline) Fields() []ent.Field {
	return []ent.Field{
		field.String("metric").NotEmpty().MaxLen(64).Comment("the metric key the baseline is for"),
		field.String("as_of_day").Match(localDayRe).Comment("the day the baseline was computed for (through its end), YYYY-MM-DD"),
		field.Enum("state").Values("CALIBRATING", "INSUFFICIENT", "READY", "FROZEN").
			Comment("whether the baseline is usable; the statistics are set only when it is READY, or FROZEN over a READY one"),
		field.Float("median").Optional().Nillable().
			Comment("rolling median of the valid days of the 60-day window, in the metric's canonical unit; null when not usable"),
		field.Float("mad").Optional().Nillable().
			Comment("unscaled median absolute deviation about the median, in analysis space: natural-log units for log-transformed metrics, the canonical unit otherwise; null when not usable"),
		field.Float("band_low").Optional().Nillable().
			Comment("lower edge of the normal band, median minus 2 robust SDs (the scaled MAD, or a fallback when MAD is 0), in the canonical unit; null when not usable"),
		field.Float("band_high").Optional().Nillable().
			Comment("upper edge of the normal band, median plus 2 robust SDs (the scaled MAD, or a fallback when MAD is 0), in the canonical unit; null when not usable"),
		field.Float("ewma").Optional().Nillable().
			Comment("short baseline: exponentially weighted moving average (7-day) of the window's valid days, in the canonical unit; null when not usable"),
		field.Int("valid_days").NonNegative().Comment("number of days with a valid value in the 60-day window"),
		field.Int("valid_days_last_28").NonNegative().Comment("number of days with a valid value in the last 28 days of the window"),
		field.String("window_from").Optional().Match(localDayRe).
			Comment("first day of the window the statistics come from, YYYY-MM-DD; empty when not usable"),
		field.String("window_to").Optional().Match(localDayRe).
			Comment("last day of that window, YYYY-MM-DD (for a frozen baseline, before frozenSince); empty when not usable"),
		field.Enum("detector_state").
			Values("OK", "CALIBRATING", "INSUFFICIENT_DATA", "PAUSED_DATA_QUALITY", "CONFLICTING_SOURCES", "FROZEN").
			Default("OK").
			Comment("whether insights are being generated for this metric, and why not"),
		field.Text("state_reason").Default("").Comment("one plain sentence explaining the detector state"),
		field.String("frozen_since").Optional().Nillable().Match(localDayRe).
			Comment("first day the source was disconnected or missing when the baseline is FROZEN, YYYY-MM-DD; null otherwise"),
	}
}

// Edges of Baseline.
func (Baseline) Edges() []ent.Edge { return []ent.Edge{ownerEdge("baselines")} }

// Indexes of Baseline.
func (Baseline) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "metric", "as_of_day").Unique()}
}

// Annotations of Baseline.
func (Baseline) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("A metric's personal baseline on one day: the 60-day median with its MAD band, the 7-day EWMA, its state and the anomaly detector's state."), entgql.RelayConnection()}
}
