package resolvers

import (
	"context"
	"encoding/base64"
	"sort"

	"entgo.io/contrib/entgql"

	"github.com/vitalgraph/vitalgraph/app/datarights"
	"github.com/vitalgraph/vitalgraph/auditverify"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/narrative"
	"github.com/vitalgraph/vitalgraph/graph/model"
)

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func checkpointModel(cp auditverify.Checkpoint) *model.AuditCheckpoint {
	return &model.AuditCheckpoint{Seq: int(cp.Seq), HeadHash: cp.HeadHash, SignedAt: cp.SignedAt, KeyID: cp.KeyID, Signature: cp.Signature}
}

func (r *Resolver) rights() (*datarights.Service, error) {
	if r.Rights == nil {
		return nil, engine.Errorf(engine.EINTERNAL, "data rights are not configured")
	}
	return r.Rights, nil
}

func (r *Resolver) auditCheckpoint(ctx context.Context, userID *string) (*model.AuditCheckpoint, error) {
	svc, err := r.rights()
	if err != nil {
		return nil, err
	}
	target, _, err := datarights.Target(ctx, deref(userID))
	if err != nil {
		return nil, err
	}
	cp, err := svc.Checkpoints.Checkpoint(ctx, r.Client, target)
	if err != nil {
		return nil, err
	}
	return checkpointModel(cp), nil
}

func (r *Resolver) verifyAuditTrail(ctx context.Context, userID *string, against *model.AuditCheckpointInput) (*model.AuditVerification, error) {
	svc, err := r.rights()
	if err != nil {
		return nil, err
	}
	target, _, err := datarights.Target(ctx, deref(userID))
	if err != nil {
		return nil, err
	}
	var cp *auditverify.Checkpoint
	if against != nil {
		cp = &auditverify.Checkpoint{
			UserID: target, Seq: int64(against.Seq), HeadHash: against.HeadHash,
			SignedAt: against.SignedAt, KeyID: against.KeyID, Signature: against.Signature,
		}
	}
	// Read as the viewer: ent privacy scopes the rows to the viewer (admins see all).
	v, err := svc.Checkpoints.Verify(ctx, r.Client, target, cp)
	if err != nil {
		return nil, err
	}
	out := &model.AuditVerification{
		Ok: v.OK(), Events: v.Events, HeadSeq: int(v.HeadSeq), HeadHash: v.HeadHash, CheckedAgainst: v.CheckedAgainst,
		Problems: make([]*model.AuditProblem, 0, len(v.Problems)),
	}
	for _, p := range v.Problems {
		mp := &model.AuditProblem{Seq: int(p.Seq), Kind: p.Kind, Message: p.Message}
		if p.EventID != "" {
			id := p.EventID
			mp.EventID = &id
		}
		out.Problems = append(out.Problems, mp)
	}
	if v.OK() {
		if c, err := svc.Checkpoints.Sign(target, v.HeadSeq, v.HeadHash); err == nil {
			out.Checkpoint = checkpointModel(c)
		}
	}
	return out, nil
}

func (r *Resolver) auditPublicKeys() ([]*model.AuditPublicKey, error) {
	svc, err := r.rights()
	if err != nil {
		return nil, err
	}
	keys, err := svc.Checkpoints.PublicKeys()
	if err != nil {
		return nil, err
	}
	out := make([]*model.AuditPublicKey, 0, len(keys))
	for kid, pub := range keys {
		out = append(out, &model.AuditPublicKey{KeyID: kid, PublicKey: base64.StdEncoding.EncodeToString(pub)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KeyID < out[j].KeyID })
	return out, nil
}

func exportModel(e datarights.Export) *model.DataExport {
	m := &model.DataExport{ID: e.ID, UserID: e.UserID, Status: model.DataExportStatus(e.Status), Progress: e.Progress, CreatedAt: e.CreatedAt}
	if e.Status == datarights.ExportReady {
		exp, url, sum, n := e.ExpiresAt, datarights.DownloadPath(e), e.SHA256, e.Size
		m.ExpiresAt, m.DownloadURL, m.Sha256, m.Bytes = &exp, &url, &sum, &n
	}
	return m
}

func (r *Resolver) dataExport(ctx context.Context, id string) (*model.DataExport, error) {
	svc, err := r.rights()
	if err != nil {
		return nil, err
	}
	e, ok := svc.Exports.Get(id, svc.Clock())
	if !ok {
		return nil, nil
	}
	if _, _, err := datarights.Target(ctx, e.UserID); err != nil {
		return nil, nil // another user's export does not exist for this viewer
	}
	return exportModel(e), nil
}

func (r *Resolver) requestDataExport(ctx context.Context, userID *string) (*model.DataExport, error) {
	svc, err := r.rights()
	if err != nil {
		return nil, err
	}
	e, err := svc.RequestExport(ctx, deref(userID))
	if err != nil {
		return nil, err
	}
	return exportModel(e), nil
}

func (r *Resolver) deleteAccount(ctx context.Context, password, userID, reason *string) (*model.DeleteAccountPayload, error) {
	svc, err := r.rights()
	if err != nil {
		return nil, err
	}
	target, _, err := datarights.Target(ctx, deref(userID))
	if err != nil {
		return nil, err
	}
	counts, err := svc.DeleteAccount(ctx, target, deref(password), deref(reason))
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	for k, v := range counts {
		m[k] = v
	}
	return &model.DeleteAccountPayload{DeletedUserID: target, ErasedRows: m}, nil
}

// oldestFirst orders interventions by creation time, oldest first.
var oldestFirst = []*ent.InterventionOrder{{Direction: entgql.OrderDirectionAsc, Field: ent.InterventionOrderFieldCreatedAt}}

// auditTrail pages through the audit events about entityIDs in chain order
// (seq ascending); the privacy layer scopes them to the viewer.
func (r *Resolver) auditTrail(ctx context.Context, after *entgql.Cursor[string], first *int, entityIDs ...string) (*ent.AuditEventConnection, error) {
	first, _, err := page(first, nil)
	if err != nil {
		return nil, err
	}
	return r.client(ctx).AuditEvent.Query().Where(auditevent.EntityIDIn(entityIDs...)).
		Paginate(ctx, after, first, nil, nil, ent.WithAuditEventOrder([]*ent.AuditEventOrder{
			{Direction: entgql.OrderDirectionAsc, Field: ent.AuditEventOrderFieldSeq},
		}))
}

// evaluationAuditTrail pages through the audit events about an evaluation
// and its narratives.
func (r *Resolver) evaluationAuditTrail(ctx context.Context, obj *ent.Evaluation, after *entgql.Cursor[string], first *int) (*ent.AuditEventConnection, error) {
	ids, err := r.client(ctx).Narrative.Query().Where(narrative.SubjectID(obj.ID)).IDs(ctx)
	if err != nil {
		return nil, err
	}
	return r.auditTrail(ctx, after, first, append(ids, obj.ID)...)
}
