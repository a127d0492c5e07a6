// Package auditverify verifies a Vitalgraph audit trail without the server:
// the per-user hash chain and the server's Ed25519-signed checkpoints of its
// head. It depends only on the Go standard library so a third party can
// vendor it; docs/audit.md describes the same recipe for other languages.
//
// Chain: events of one user, in seq order 1, 2, 3, …; each event's hash is
//
//	hex(sha256(prev_hash || "\n" || canonical JSON of the event))
//
// where prev_hash is the previous event's hash ("" for seq 1) and the
// canonical JSON is Go's encoding/json of the object with the keys, in this
// order, userId, seq, entityType, entityId, action, decision, reason,
// details (object or null; its keys sorted), actor, requestId, createdAt
// (RFC 3339 UTC with up to 9 fractional digits, trailing zeros dropped).
//
// Checkpoint: the server signs, with Ed25519, the message
//
//	"vitalgraph-audit-checkpoint/v1\n" + userId + "\n" + seq + "\n" + headHash + "\n" + signedAt
//
// (seq in decimal, signedAt RFC 3339 UTC as above); the signature is
// base64 (standard, padded). A client that kept a checkpoint detects a
// later rewrite of its history: the event at the checkpoint's seq must
// still have the checkpoint's head hash.
package auditverify

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Event is one audit event as exported (data export, audit trail API).
type Event struct {
	ID         string         `json:"id,omitempty"`
	UserID     string         `json:"userId"`
	Seq        int64          `json:"seq"`
	EntityType string         `json:"entityType"`
	EntityID   string         `json:"entityId"`
	Action     string         `json:"action"`
	Decision   string         `json:"decision"`
	Reason     string         `json:"reason"`
	Details    map[string]any `json:"details"`
	Actor      string         `json:"actor"`
	RequestID  string         `json:"requestId"`
	PrevHash   string         `json:"prevHash"`
	Hash       string         `json:"hash"`
	CreatedAt  time.Time      `json:"createdAt"`
}

// Hash computes the chained hash of ev from its content and PrevHash.
func Hash(ev Event) (string, error) {
	canon, err := json.Marshal(struct {
		UserID     string         `json:"userId"`
		Seq        int64          `json:"seq"`
		EntityType string         `json:"entityType"`
		EntityID   string         `json:"entityId"`
		Action     string         `json:"action"`
		Decision   string         `json:"decision"`
		Reason     string         `json:"reason"`
		Details    map[string]any `json:"details"`
		Actor      string         `json:"actor"`
		RequestID  string         `json:"requestId"`
		CreatedAt  string         `json:"createdAt"`
	}{
		ev.UserID, ev.Seq, ev.EntityType, ev.EntityID, ev.Action, ev.Decision, ev.Reason, ev.Details,
		ev.Actor, ev.RequestID, ev.CreatedAt.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return "", fmt.Errorf("canonical audit event: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(ev.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Problem kinds.
const (
	KindGap       = "gap"        // a seq is missing (deleted event) or out of order
	KindAltered   = "altered"    // the event's content no longer matches its stored hash
	KindRehashed  = "rehashed"   // content and hash were both rewritten: the next event links to another hash
	KindBadLink   = "bad_link"   // prev_hash does not equal the previous event's hash
	KindRewritten = "rewritten"  // the event at a checkpoint's seq has another hash than the signed one
	KindTruncated = "truncated"  // the chain is shorter than a checkpoint says it was
	KindSignature = "signature"  // a checkpoint's signature does not verify
	KindOwner     = "wrong_user" // an event of another user in the chain
)

// Problem is one finding: which event and what is wrong with it.
type Problem struct {
	Seq     int64  `json:"seq"`
	EventID string `json:"eventId,omitempty"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Report is the result of verifying one user's chain.
type Report struct {
	UserID   string    `json:"userId"`
	Events   int       `json:"events"`
	HeadSeq  int64     `json:"headSeq"`
	HeadHash string    `json:"headHash"` // the stored hash of the last event
	Problems []Problem `json:"problems"`
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// VerifyChain recomputes the chain of userID's events (sorted by seq by the
// caller) and lists every problem found; it never stops at the first.
func VerifyChain(userID string, events []Event) Report {
	rep := Report{UserID: userID, Events: len(events), Problems: []Problem{}}
	prevStored := ""
	var want int64 = 1
	for i, ev := range events {
		add := func(kind, format string, args ...any) {
			rep.Problems = append(rep.Problems, Problem{Seq: ev.Seq, EventID: ev.ID, Kind: kind, Message: fmt.Sprintf(format, args...)})
		}
		if ev.UserID != userID {
			add(KindOwner, "event %d belongs to user %s", ev.Seq, ev.UserID)
		}
		if ev.Seq != want {
			if ev.Seq > want {
				add(KindGap, "events %d to %d are missing (deleted)", want, ev.Seq-1)
			} else {
				add(KindGap, "event %d is out of order or duplicated (expected %d)", ev.Seq, want)
			}
		}
		want = ev.Seq + 1
		if ev.PrevHash != prevStored {
			add(KindBadLink, "event %d links to %s, but the previous event's hash is %s", ev.Seq, short(ev.PrevHash), short(prevStored))
		}
		h, err := Hash(ev)
		switch {
		case err != nil:
			add(KindAltered, "event %d cannot be hashed: %v", ev.Seq, err)
		case h != ev.Hash:
			add(KindAltered, "audit event %d was altered: its content hashes to %s, but its stored hash is %s", ev.Seq, short(h), short(ev.Hash))
		case i+1 < len(events) && events[i+1].Seq == ev.Seq+1 && events[i+1].PrevHash != ev.Hash:
			// Content and hash agree but the successor remembers another
			// hash: the row was edited and rehashed.
			add(KindRehashed, "audit event %d was rewritten and rehashed: event %d links to %s, its hash is now %s",
				ev.Seq, ev.Seq+1, short(events[i+1].PrevHash), short(ev.Hash))
		}
		prevStored = ev.Hash
	}
	if n := len(events); n > 0 {
		rep.HeadSeq, rep.HeadHash = events[n-1].Seq, events[n-1].Hash
	}
	return rep
}

func short(h string) string {
	if h == "" {
		return `""`
	}
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// Checkpoint is the server's signature over one user's chain head.
type Checkpoint struct {
	UserID    string    `json:"userId"`
	Seq       int64     `json:"seq"`
	HeadHash  string    `json:"headHash"`
	SignedAt  time.Time `json:"signedAt"`
	KeyID     string    `json:"keyId"`
	Signature string    `json:"signature"` // base64 Ed25519 signature of Message()
}

// Message is the exact byte string the server signs.
func (c Checkpoint) Message() []byte {
	return []byte("vitalgraph-audit-checkpoint/v1\n" + c.UserID + "\n" + strconv.FormatInt(c.Seq, 10) + "\n" +
		c.HeadHash + "\n" + c.SignedAt.UTC().Format(time.RFC3339Nano))
}

// Sign fills in KeyID and Signature.
func (c *Checkpoint) Sign(keyID string, key ed25519.PrivateKey) {
	c.KeyID = keyID
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.Message()))
}

// PublicKeys maps key ids to Ed25519 public keys (the server publishes its
// ring: Query.auditPublicKeys, `vitalgraph audit keys`).
type PublicKeys map[string]ed25519.PublicKey

// ErrUnknownKey is returned for a checkpoint signed by a key not in the ring.
var ErrUnknownKey = errors.New("checkpoint signed by an unknown key")

// VerifySignature checks the checkpoint's signature against keys.
func (c Checkpoint) VerifySignature(keys PublicKeys) error {
	pub, ok := keys[c.KeyID]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKey, c.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, c.Message(), sig) {
		return errors.New("checkpoint signature does not verify")
	}
	return nil
}

// VerifyAgainst checks events against a checkpoint kept earlier: its
// signature must verify, and the event at its seq must still carry its head
// hash. It returns the problems found (none when the history since the
// checkpoint is an extension of the signed one). Combine with VerifyChain,
// which checks that later events chain onto it.
func VerifyAgainst(events []Event, cp Checkpoint, keys PublicKeys) []Problem {
	var out []Problem
	if err := cp.VerifySignature(keys); err != nil {
		out = append(out, Problem{Seq: cp.Seq, Kind: KindSignature, Message: err.Error()})
		return out
	}
	if cp.Seq == 0 {
		return out
	}
	for _, ev := range events {
		if ev.Seq != cp.Seq {
			continue
		}
		if ev.Hash != cp.HeadHash {
			out = append(out, Problem{Seq: ev.Seq, EventID: ev.ID, Kind: KindRewritten, Message: fmt.Sprintf(
				"history was rewritten: event %d has hash %s, but the checkpoint signed at %s by key %s says %s",
				ev.Seq, short(ev.Hash), cp.SignedAt.UTC().Format(time.RFC3339), cp.KeyID, short(cp.HeadHash))})
		}
		return out
	}
	return append(out, Problem{Seq: cp.Seq, Kind: KindTruncated, Message: fmt.Sprintf(
		"event %d, signed in a checkpoint at %s, is no longer in the trail", cp.Seq, cp.SignedAt.UTC().Format(time.RFC3339))})
}
