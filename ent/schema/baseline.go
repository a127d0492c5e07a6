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
		field.String("metric").NotEmpty().MaxLen(64),
		field.String("as_of_day").Match(localDayRe),
		field.Enum("state").Values("CALIBRATING", "INSUFFICIENT", "READY", "FROZEN"),
		field.Float("median").Optional().Nillable(),
		field.Float("mad").Optional().Nillable(),
		field.Float("band_low").Optional().Nillable(),
		field.Float("band_high").Optional().Nillable(),
		field.Float("ewma").Optional().Nillable(),
		field.Int("valid_days").NonNegative(),
		field.Int("valid_days_last_28").NonNegative(),
		field.String("window_from").Optional().Match(localDayRe),
		field.String("window_to").Optional().Match(localDayRe),
		field.Enum("detector_state").
			Values("OK", "CALIBRATING", "INSUFFICIENT_DATA", "PAUSED_DATA_QUALITY", "CONFLICTING_SOURCES", "FROZEN").
			Default("OK").
			Comment("whether insights are being generated for this metric, and why not"),
		field.Text("state_reason").Default(""),
		field.String("frozen_since").Optional().Nillable().Match(localDayRe),
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
