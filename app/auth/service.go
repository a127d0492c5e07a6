package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/auditevent"
	"github.com/vitalgraph/vitalgraph/ent/refreshtoken"
	"github.com/vitalgraph/vitalgraph/ent/user"
)

// Revocation reasons stored on refresh tokens.
const (
	ReasonReuse   = "reuse_detected"
	ReasonSignOut = "sign_out"
	ReasonAdmin   = "admin_revoked"
)

// Operations passed to Service.Guard (rate limiting of auth endpoints).
const (
	OpSignUp  = "signUp"
	OpSignIn  = "signIn"
	OpRefresh = "refreshToken"
	OpSignOut = "signOut"
)

// Session is what a successful sign-up, sign-in or refresh returns.
type Session struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time // of the access token
	User         *ent.User
}

// Service runs account and token operations. They happen before a viewer
// exists, so they run as the system viewer on exactly the rows they need,
// in their own transactions on Client (never the request's transaction: a
// revocation must commit even though the request fails).
type Service struct {
	Client     *ent.Client
	Tokens     *Tokens
	Recorder   *record.Recorder
	RefreshTTL time.Duration
	Argon2     Argon2Params
	// Guard is called before each operation (rate limiting); an error
	// stops the operation. It may be nil.
	Guard func(ctx context.Context, op string) error
	Now   func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) guard(ctx context.Context, op string) error {
	if s.Guard == nil {
		return nil
	}
	return s.Guard(ctx, op)
}

// systemCtx is ctx as the system viewer, keeping the request id.
func systemCtx(ctx context.Context) context.Context {
	v, _ := viewer.FromContext(ctx)
	return viewer.NewContext(ctx, viewer.Viewer{Role: viewer.RoleSystem, RequestID: v.RequestID})
}

// HashToken is the stored form of a refresh token: hex sha256.
func HashToken(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func normalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 320 {
		return "", engine.Errorf(engine.EINVALID, "email is not a valid address")
	}
	return e, nil
}

func roleOf(u *ent.User) viewer.Role {
	if u.Role == user.RoleADMIN {
		return viewer.RoleAdmin
	}
	return viewer.RoleUser
}

// SignUp creates a USER account and signs it in. EINVALID for a bad email or
// password, ECONFLICT when the email is taken, ELIMIT when rate limited.
func (s *Service) SignUp(ctx context.Context, email, password, userAgent string) (*Session, error) {
	if err := s.guard(ctx, OpSignUp); err != nil {
		return nil, err
	}
	e, err := normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password, s.Argon2)
	if err != nil {
		return nil, err
	}
	sctx := systemCtx(ctx)
	var out *Session
	err = s.inTx(sctx, func(tx *ent.Tx) error {
		u, err := tx.User.Create().SetEmail(e).SetDisplayName(strings.SplitN(e, "@", 2)[0]).
			SetRole(user.RoleUSER).SetPasswordHash(hash).Save(sctx)
		if ent.IsConstraintError(err) {
			return engine.Errorf(engine.ECONFLICT, "an account with this email already exists")
		}
		if err != nil {
			return err
		}
		out, err = s.startFamily(sctx, tx, u, userAgent)
		return err
	})
	return out, err
}

// dummyHash keeps sign-in timing the same whether or not the email exists.
// It is computed on first use, not at package load (Argon2 takes 19 MiB).
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not-a-real-password", DefaultArgon2)
	return h
})

// SignIn checks the password and starts a new token family. Unknown emails
// and wrong passwords fail the same way, in the same time: EUNAUTHORIZED.
func (s *Service) SignIn(ctx context.Context, email, password, userAgent string) (*Session, error) {
	if err := s.guard(ctx, OpSignIn); err != nil {
		return nil, err
	}
	bad := engine.Errorf(engine.EUNAUTHORIZED, "invalid email or password")
	e, err := normalizeEmail(email)
	if err != nil || len(password) > MaxPasswordLen {
		return nil, bad
	}
	sctx := systemCtx(ctx)
	u, err := s.Client.User.Query().Where(user.EmailEQ(e)).Only(sctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if u == nil || u.PasswordHash == nil {
		VerifyPassword(dummyHash(), password)
		return nil, bad
	}
	if !VerifyPassword(*u.PasswordHash, password) {
		return nil, bad
	}
	var out *Session
	err = s.inTx(sctx, func(tx *ent.Tx) error {
		out, err = s.startFamily(sctx, tx, u, userAgent)
		return err
	})
	return out, err
}

func (s *Service) startFamily(ctx context.Context, tx *ent.Tx, u *ent.User, userAgent string) (*Session, error) {
	return s.issue(ctx, tx, u, "fam_"+hex.EncodeToString(randomBytes(12)), userAgent)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func (s *Service) issue(ctx context.Context, tx *ent.Tx, u *ent.User, family, userAgent string) (*Session, error) {
	raw := randomToken("vgr_", 32)
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	if _, err := tx.RefreshToken.Create().SetUserID(u.ID).SetFamilyID(family).SetTokenHash(HashToken(raw)).
		SetExpiresAt(s.now().Add(s.RefreshTTL)).SetUserAgent(strings.ToValidUTF8(userAgent, "")).Save(ctx); err != nil {
		return nil, fmt.Errorf("storing refresh token: %w", err)
	}
	access, exp, err := s.Tokens.Issue(u.ID, roleOf(u))
	if err != nil {
		return nil, err
	}
	return &Session{AccessToken: access, RefreshToken: raw, ExpiresAt: exp, User: u}, nil
}

// Refresh rotates a refresh token: the presented token is marked used and a
// new one of the same family is returned with a new access token. Presenting
// a token that was already used revokes the whole family (and audits it):
// someone else holds a copy. Failures are EUNAUTHORIZED.
func (s *Service) Refresh(ctx context.Context, raw, userAgent string) (*Session, error) {
	if err := s.guard(ctx, OpRefresh); err != nil {
		return nil, err
	}
	sctx := systemCtx(ctx)
	tok, err := s.lookup(sctx, raw)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case tok.RevokedAt != nil:
		return nil, engine.Errorf(engine.EUNAUTHORIZED, "refresh token revoked")
	case tok.UsedAt != nil:
		return nil, s.reuse(sctx, tok)
	case !now.Before(tok.ExpiresAt):
		return nil, engine.Errorf(engine.EUNAUTHORIZED, "refresh token expired")
	}
	var out *Session
	raced := false
	err = s.inTx(sctx, func(tx *ent.Tx) error {
		n, err := tx.RefreshToken.Update().
			Where(refreshtoken.IDEQ(tok.ID), refreshtoken.UsedAtIsNil(), refreshtoken.RevokedAtIsNil()).
			SetUsedAt(now).Save(sctx)
		if err != nil {
			return err
		}
		if n == 0 { // a concurrent refresh won: this presentation is a reuse
			raced = true
			return engine.Errorf(engine.EUNAUTHORIZED, "refresh token reused")
		}
		u, err := tx.User.Get(sctx, tok.UserID)
		if err != nil {
			return err
		}
		out, err = s.issue(sctx, tx, u, tok.FamilyID, userAgent)
		return err
	})
	if raced {
		return nil, s.reuse(sctx, tok)
	}
	return out, err
}

func (s *Service) lookup(ctx context.Context, raw string) (*ent.RefreshToken, error) {
	if raw == "" || len(raw) > 200 {
		return nil, engine.Errorf(engine.EUNAUTHORIZED, "invalid refresh token")
	}
	tok, err := s.Client.RefreshToken.Query().Where(refreshtoken.TokenHashEQ(HashToken(raw))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, engine.Errorf(engine.EUNAUTHORIZED, "invalid refresh token")
	}
	return tok, err
}

func (s *Service) reuse(ctx context.Context, tok *ent.RefreshToken) error {
	if _, err := s.RevokeFamily(ctx, tok.UserID, tok.FamilyID, ReasonReuse); err != nil {
		return err
	}
	return engine.Errorf(engine.EUNAUTHORIZED, "refresh token reused: every session of this sign-in was revoked")
}

// SignOut revokes the family of a refresh token. EUNAUTHORIZED when the
// token is unknown.
func (s *Service) SignOut(ctx context.Context, raw string) error {
	if err := s.guard(ctx, OpSignOut); err != nil {
		return err
	}
	sctx := systemCtx(ctx)
	tok, err := s.lookup(sctx, raw)
	if err != nil {
		return err
	}
	_, err = s.RevokeFamily(sctx, tok.UserID, tok.FamilyID, ReasonSignOut)
	return err
}

// RevokeFamily revokes every live token of a family (all families of the
// user when family is "") and writes an audit event in the same
// transaction. It returns how many tokens were revoked. ctx's viewer must be
// allowed to update the user's tokens (system or admin).
func (s *Service) RevokeFamily(ctx context.Context, userID, family, reason string) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		q := tx.RefreshToken.Update().Where(refreshtoken.UserIDEQ(userID), refreshtoken.RevokedAtIsNil())
		entity := family
		if family != "" {
			q = q.Where(refreshtoken.FamilyIDEQ(family))
		} else {
			entity = userID
		}
		var err error
		n, err = q.SetRevokedAt(s.now()).SetRevokedReason(reason).Save(ctx)
		if err != nil {
			return err
		}
		_, err = s.Recorder.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "RefreshTokenFamily", EntityID: entity, Action: "revoke",
			Decision: reason, Reason: revokeReason(reason), Details: map[string]any{"revokedTokens": n},
		})
		return err
	})
	return n, err
}

func revokeReason(reason string) string {
	switch reason {
	case ReasonReuse:
		return "a rotated refresh token was presented again; the whole family was revoked"
	case ReasonSignOut:
		return "signed out"
	case ReasonAdmin:
		return "revoked by an administrator"
	}
	return reason
}

// RequireAdmin returns the viewer when it is an admin, else EUNAUTHORIZED
// (no viewer) or EFORBIDDEN.
func RequireAdmin(ctx context.Context) (viewer.Viewer, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.UserID == "" {
		return viewer.Viewer{}, engine.Errorf(engine.EUNAUTHORIZED, "sign in required")
	}
	if v.Role != viewer.RoleAdmin {
		return viewer.Viewer{}, engine.Errorf(engine.EFORBIDDEN, "admin only")
	}
	return v, nil
}

// AdminAuditTrail returns the newest first audit events of userID (admin
// only) and records the access in that user's own trail, so every admin
// read is itself audited.
func (s *Service) AdminAuditTrail(ctx context.Context, userID string, first int) ([]*ent.AuditEvent, error) {
	v, err := RequireAdmin(ctx)
	if err != nil {
		return nil, err
	}
	var out []*ent.AuditEvent
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.User.Get(ctx, userID); err != nil {
			return err
		}
		out, err = tx.AuditEvent.Query().Where(auditevent.UserIDEQ(userID)).
			Order(ent.Desc(auditevent.FieldSeq)).Limit(first).All(ctx)
		if err != nil {
			return err
		}
		_, err = s.Recorder.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "User", EntityID: userID, Action: "admin_read_audit_trail",
			Decision: "allowed", Reason: "an administrator read this audit trail",
			Details: map[string]any{"admin": v.UserID, "first": first},
		})
		return err
	})
	return out, err
}

// AdminRevokeSessions revokes every refresh token of userID (admin only),
// audited in that user's trail.
func (s *Service) AdminRevokeSessions(ctx context.Context, userID string) (int, error) {
	if _, err := RequireAdmin(ctx); err != nil {
		return 0, err
	}
	if _, err := s.Client.User.Get(ctx, userID); err != nil {
		return 0, err
	}
	return s.RevokeFamily(ctx, userID, "", ReasonAdmin)
}

func (s *Service) inTx(ctx context.Context, fn func(*ent.Tx) error) error {
	tx, err := s.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

type userAgentKey struct{}

// NewContextWithUserAgent returns ctx carrying the client's User-Agent,
// stored with refresh tokens so users can tell their sessions apart.
func NewContextWithUserAgent(ctx context.Context, ua string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, ua)
}

// UserAgentFromContext returns the User-Agent set by NewContextWithUserAgent.
func UserAgentFromContext(ctx context.Context) string {
	s, _ := ctx.Value(userAgentKey{}).(string)
	return s
}
