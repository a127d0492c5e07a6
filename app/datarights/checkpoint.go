// Package datarights implements a person's rights over their data and the
// operator's duties around it: signed audit checkpoints and trail
// verification, data export, and account deletion (docs/audit.md,
// docs/runbooks.md).
package datarights

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vitalgraph/vitalgraph/app/auth"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/auditverify"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/user"
)

// keyFileJSON is the key ring file: the same format as JWT_KEYS_FILE
// (docs/security.md), but its own file and its own keys.
type keyFileJSON struct {
	SigningKey string `json:"signingKey"`
	Keys       []struct {
		KID        string `json:"kid"`
		PrivateKey string `json:"privateKey,omitempty"`
		PublicKey  string `json:"publicKey,omitempty"`
	} `json:"keys"`
}

// Checkpointer signs users' audit chain heads with the key ring in Path
// (AUDIT_KEYS_FILE). The file is re-read when it changes, so a rotation
// (`vitalgraph audit rotate-key`) takes effect without a restart.
type Checkpointer struct {
	Path string
	Now  func() time.Time

	mu   sync.Mutex
	mod  time.Time
	size int64
	ring *auth.KeyRing
}

// DefaultKeysPath is the key ring used when AUDIT_KEYS_FILE is not set.
func DefaultKeysPath(dataDir string) string { return filepath.Join(dataDir, "audit-keys.json") }

// Ring returns the current key ring, creating the file with a first key
// when it does not exist.
func (c *Checkpointer) Ring() (*auth.KeyRing, error) {
	if c == nil || c.Path == "" {
		return nil, engine.Errorf(engine.EINTERNAL, "audit checkpoint keys are not configured (AUDIT_KEYS_FILE)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fi, err := os.Stat(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := RotateKey(c.Path, time.Now()); err != nil {
			return nil, err
		}
		fi, err = os.Stat(c.Path)
	}
	if err != nil {
		return nil, engine.Wrap(err, engine.EINTERNAL, "audit checkpoint keys")
	}
	if c.ring != nil && fi.ModTime().Equal(c.mod) && fi.Size() == c.size {
		return c.ring, nil
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		return nil, engine.Wrap(err, engine.EINTERNAL, "reading audit checkpoint keys")
	}
	ring, err := auth.ParseKeyRing(data)
	if err != nil {
		return nil, engine.Wrap(err, engine.EINTERNAL, "audit checkpoint keys "+c.Path)
	}
	c.ring, c.mod, c.size = ring, fi.ModTime(), fi.Size()
	return ring, nil
}

// PublicKeys returns every verification key of the ring.
func (c *Checkpointer) PublicKeys() (auditverify.PublicKeys, error) {
	ring, err := c.Ring()
	if err != nil {
		return nil, err
	}
	out := auditverify.PublicKeys{}
	for _, kid := range ring.KIDs() {
		pub, _ := ring.Public(kid)
		out[kid] = pub
	}
	return out, nil
}

func (c *Checkpointer) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Checkpoint signs userID's current chain head as stored on the user row
// (seq 0 and an empty hash for an empty trail). ctx's viewer must be
// allowed to read the user.
func (c *Checkpointer) Checkpoint(ctx context.Context, client *ent.Client, userID string) (auditverify.Checkpoint, error) {
	u, err := client.User.Query().Where(user.ID(userID)).Only(ctx)
	if err != nil {
		return auditverify.Checkpoint{}, err
	}
	return c.Sign(userID, u.AuditSeq, u.AuditHead)
}

// Sign signs the given chain head of userID with the ring's signing key.
func (c *Checkpointer) Sign(userID string, seq int64, head string) (auditverify.Checkpoint, error) {
	ring, err := c.Ring()
	if err != nil {
		return auditverify.Checkpoint{}, err
	}
	kid, key, ok := ring.Signer()
	if !ok {
		return auditverify.Checkpoint{}, engine.Errorf(engine.EINTERNAL, "the audit key ring has no signing key")
	}
	cp := auditverify.Checkpoint{UserID: userID, Seq: seq, HeadHash: head, SignedAt: c.now()}
	cp.Sign(kid, key)
	return cp, nil
}

// Verification is a verified trail, optionally against a kept checkpoint.
type Verification struct {
	auditverify.Report
	CheckedAgainst bool
}

// Verify recomputes userID's chain and, when against is not nil, checks it
// against that earlier checkpoint (whose UserID is forced to userID, so a
// checkpoint of another user never verifies). The stored chain head on the
// user row must also equal the last event's hash.
func (c *Checkpointer) Verify(ctx context.Context, client *ent.Client, userID string, against *auditverify.Checkpoint) (Verification, error) {
	rep, err := record.Verify(ctx, client, userID)
	if err != nil {
		return Verification{}, err
	}
	u, err := client.User.Query().Where(user.ID(userID)).Only(ctx)
	if err != nil {
		return Verification{}, err
	}
	if u.AuditSeq != rep.HeadSeq || u.AuditHead != rep.HeadHash {
		rep.Problems = append(rep.Problems, auditverify.Problem{
			Seq: rep.HeadSeq, Kind: auditverify.KindBadLink,
			Message: fmt.Sprintf("the user's chain head (seq %d) does not match the last event (seq %d)", u.AuditSeq, rep.HeadSeq),
		})
	}
	out := Verification{Report: rep}
	if against != nil {
		keys, err := c.PublicKeys()
		if err != nil {
			return Verification{}, err
		}
		cp := *against
		cp.UserID = userID
		events, err := record.Events(ctx, client, userID)
		if err != nil {
			return Verification{}, err
		}
		out.Problems = append(out.Problems, auditverify.VerifyAgainst(events, cp, keys)...)
		out.CheckedAgainst = true
	}
	return out, nil
}

// RotateKey adds a fresh Ed25519 key to the ring file at path (creating it)
// and makes it the signing key; earlier keys stay, so earlier checkpoints
// keep verifying. It returns the new key id. Retire a key by removing it
// from the file (checkpoints it signed then no longer verify).
func RotateKey(path string, now time.Time) (string, error) {
	var f keyFileJSON
	data, err := os.ReadFile(path) //nolint:gosec // AUDIT_KEYS_FILE, configured by the operator
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &f); err != nil {
			return "", fmt.Errorf("audit keys file %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return "", err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return "", err
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	kid := "audit-" + now.UTC().Format("20060102T150405") + "-" + base64.RawURLEncoding.EncodeToString(pub[:4])
	f.Keys = append(f.Keys, struct {
		KID        string `json:"kid"`
		PrivateKey string `json:"privateKey,omitempty"`
		PublicKey  string `json:"publicKey,omitempty"`
	}{KID: kid, PrivateKey: base64.StdEncoding.EncodeToString(seed)})
	f.SigningKey = kid
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return kid, nil
}
