package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vitalgraph/vitalgraph/ent/schema/pulid"
)

// HealthImport is one uploaded file (an Apple Health export or a CSV) and
// the job that imports it (app/importer.Service.Run): where it stands and
// what it stored. The upload waits in a spool file until the job is done.
type HealthImport struct{ ent.Schema }

// Mixin of HealthImport.
func (HealthImport) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("imp"), OwnedMixin{}, CreatedAtMixin{}, UpdatedAtMixin{}}
}

// Fields of HealthImport.
func (HealthImport) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("format").Values("APPLE_HEALTH", "CSV").Immutable().
			Comment("what the file is: an Apple Health export (export.xml or its .zip) or a CSV read through a column mapping"),
		field.String("file_name").MaxLen(200).Immutable().
			Comment("the uploaded file's name, as the client sent it"),
		field.Int64("size_bytes").NonNegative().Immutable().Comment("the uploaded file's size in bytes"),
		field.String("spool_path").Optional().MaxLen(1000).Annotations(entgql.Skip()),
		field.String("csv_mapping").Optional().MaxLen(2000).Annotations(entgql.Skip()),
		field.Enum("status").Values("QUEUED", "RUNNING", "COMPLETED", "FAILED").Default("QUEUED").
			Comment("where the import stands: QUEUED until a worker takes it, RUNNING, then COMPLETED or FAILED (errorCode and errorMessage say why; nothing of a failed import is stored)"),
		field.Int64("records_read").NonNegative().Default(0).Comment("records read from the file so far"),
		field.Int("samples").NonNegative().Default(0).Comment("daily samples derived from the records"),
		field.Int("stored").NonNegative().Default(0).Comment("samples stored by this import"),
		field.Int("already_stored").NonNegative().Default(0).
			Comment("samples that were already stored (an earlier upload of the same data, or a resumed run)"),
		field.Int("rejected").NonNegative().Default(0).Comment("samples refused by validation and left out"),
		field.Int64("skipped_records").NonNegative().Default(0).
			Comment("records of the file no metric uses (other Apple Health types, for example)"),
		field.String("error_code").Optional().Nillable().MaxLen(40).
			Comment("the error code of a FAILED import (EINVALID, ELIMIT, …)"),
		field.String("error_message").Optional().Nillable().MaxLen(500).
			Comment("a user-safe message saying why the import FAILED"),
		field.Time("started_at").Optional().Nillable().Comment("when a worker first started the import"),
		field.Time("completed_at").Optional().Nillable().Comment("when the import COMPLETED or FAILED"),
	}
}

// Edges of HealthImport.
func (HealthImport) Edges() []ent.Edge { return []ent.Edge{ownerEdge("health_imports")} }

// Indexes of HealthImport.
func (HealthImport) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status")}
}

// Annotations of HealthImport.
func (HealthImport) Annotations() []schema.Annotation {
	return []schema.Annotation{schema.Comment("One uploaded health-data file and the background job importing it; visible only to its owner.")}
}
