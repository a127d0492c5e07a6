package record

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
)

// mayWrite reports whether ctx's viewer may write userID's trail: the
// rule ent's privacy policy applies to the user row and the owned event
// rows (the user themself, an admin or the system). The PostgreSQL path
// checks it itself; anyone else takes the ent path, which refuses.
func mayWrite(ctx context.Context, userID string) bool {
	v, ok := viewer.FromContext(ctx)
	return ok && (v.IsAdmin() || (v.UserID != "" && v.UserID == userID))
}

// writeUserPostgres is writeUser in two statements on PostgreSQL, so that
// the user's row lock (taken by the first) is held for as few round trips
// as possible: the UPDATE of the user row returns the sequence numbers and
// the chain head; one INSERT … SELECT FROM unnest(…) then writes the audit
// events, the new chain head and the feed events (one statement when there
// is no audit event: the feed rows take their numbers from the UPDATE in a
// CTE).
func writeUserPostgres(ctx context.Context, tx *ent.Tx, userID string, items []item, now func() time.Time) error {
	var na int64
	for _, it := range items {
		if it.audit != nil {
			na++
		}
	}
	nf := int64(len(items))
	at := now()
	fids, fkinds, fentities, fpayloads := make([]string, nf), make([]string, nf), make([]string, nf), make([]string, nf)
	for i, it := range items {
		fe := it.feed
		p, err := json.Marshal(fe.Payload)
		if err != nil {
			return fmt.Errorf("feed payload: %w", err)
		}
		fids[i], fkinds[i], fentities[i], fpayloads[i] = fe.ID, string(fe.Kind), fe.EntityID, string(p)
	}
	if na == 0 {
		rows, err := tx.QueryContext(ctx, `WITH u AS (
  UPDATE users SET feed_seq = feed_seq + $2, updated_at = $3 WHERE id = $1 RETURNING feed_seq
)
INSERT INTO feed_events (id, user_id, seq, kind, entity_id, payload, created_at)
SELECT f.id, $1, u.feed_seq - $2 + f.ord, f.kind, f.entity_id, NULLIF(f.payload, 'null')::jsonb, $3
FROM u, unnest($4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS f(id, kind, entity_id, payload, ord)
RETURNING seq`, userID, nf, at, pq.Array(fids), pq.Array(fkinds), pq.Array(fentities), pq.Array(fpayloads))
		if err != nil {
			return fmt.Errorf("writing feed events: %w", err)
		}
		defer func() { _ = rows.Close() }()
		var seqs []int64
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				return fmt.Errorf("writing feed events: %w", err)
			}
			seqs = append(seqs, s)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("writing feed events: %w", err)
		}
		if int64(len(seqs)) != nf {
			return fmt.Errorf("writing feed events: user %s not found", userID)
		}
		first := seqs[0]
		for _, s := range seqs {
			first = min(first, s)
		}
		for i, it := range items {
			it.feed.Seq, it.feed.CreatedAt = first+int64(i), at
		}
		return nil
	}

	var aseq, fseq int64
	var head string
	rows, err := tx.QueryContext(ctx, `UPDATE users SET audit_seq = audit_seq + $2, feed_seq = feed_seq + $3, updated_at = $4
WHERE id = $1 RETURNING audit_seq, audit_head, feed_seq`, userID, na, nf, at)
	if err != nil {
		return fmt.Errorf("bumping feed sequence: %w", err)
	}
	found := rows.Next()
	if found {
		err = rows.Scan(&aseq, &head, &fseq)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return fmt.Errorf("bumping feed sequence: %w", err)
	}
	if !found {
		return fmt.Errorf("bumping feed sequence: user %s not found", userID)
	}
	aseq -= na
	fseq -= nf
	var aids, atypes, aents, aacts, adecs, areasons, adetails, aactors, areqs, aprev, ahash []string
	var aseqs []int64
	for i, it := range items {
		if ev := it.audit; ev != nil {
			aseq++
			ev.Seq, ev.PrevHash, ev.CreatedAt = aseq, head, at
			if ev.Hash, err = Hash(ev); err != nil {
				return err
			}
			head = ev.Hash
			d, err := json.Marshal(ev.Details)
			if err != nil {
				return fmt.Errorf("audit details: %w", err)
			}
			aids, aseqs = append(aids, ev.ID), append(aseqs, ev.Seq)
			atypes, aents, aacts = append(atypes, ev.EntityType), append(aents, ev.EntityID), append(aacts, ev.Action)
			adecs, areasons, adetails = append(adecs, ev.Decision), append(areasons, ev.Reason), append(adetails, string(d))
			aactors, areqs = append(aactors, ev.Actor), append(areqs, ev.RequestID)
			aprev, ahash = append(aprev, ev.PrevHash), append(ahash, ev.Hash)
		}
		items[i].feed.Seq, items[i].feed.CreatedAt = fseq+int64(i)+1, at
	}
	fseqs := make([]int64, nf)
	for i, it := range items {
		fseqs[i] = it.feed.Seq
	}
	_, err = tx.ExecContext(ctx, `WITH a AS (
  INSERT INTO audit_events (id, user_id, seq, entity_type, entity_id, action, decision, reason, details, actor, request_id, prev_hash, hash, created_at)
  SELECT a.id, $1, a.seq, a.entity_type, a.entity_id, a.action, a.decision, a.reason, NULLIF(a.details, 'null')::jsonb, a.actor, a.request_id, a.prev_hash, a.hash, $2
  FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
    AS a(id, seq, entity_type, entity_id, action, decision, reason, details, actor, request_id, prev_hash, hash)
), f AS (
  INSERT INTO feed_events (id, user_id, seq, kind, entity_id, payload, created_at)
  SELECT f.id, $1, f.seq, f.kind, f.entity_id, NULLIF(f.payload, 'null')::jsonb, $2
  FROM unnest($15::text[], $16::bigint[], $17::text[], $18::text[], $19::text[]) AS f(id, seq, kind, entity_id, payload)
)
UPDATE users SET audit_head = $20 WHERE id = $1`,
		userID, at, pq.Array(aids), pq.Array(aseqs), pq.Array(atypes), pq.Array(aents), pq.Array(aacts), pq.Array(adecs),
		pq.Array(areasons), pq.Array(adetails), pq.Array(aactors), pq.Array(areqs), pq.Array(aprev), pq.Array(ahash),
		pq.Array(fids), pq.Array(fseqs), pq.Array(fkinds), pq.Array(fentities), pq.Array(fpayloads), head)
	if err != nil {
		return fmt.Errorf("writing audit and feed events: %w", err)
	}
	return nil
}
