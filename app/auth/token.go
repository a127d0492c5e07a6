package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
)

// AccessTokenType is the JWT "typ" header of access tokens (RFC 9068); any
// other typ is refused (RFC 8725 §3.11).
const AccessTokenType = "at+jwt"

// MaxLeeway bounds the clock skew accepted on exp/nbf/iat.
const MaxLeeway = 30 * time.Second

// TokenConfig is what access tokens carry and are checked against.
type TokenConfig struct {
	Issuer    string
	Audience  string
	AccessTTL time.Duration
	Leeway    time.Duration // ≤ MaxLeeway
}

// Claims are the claims of an access token.
type Claims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// Tokens signs and verifies access tokens with the current key ring.
type Tokens struct {
	Keys   interface{ Ring() *KeyRing }
	Config TokenConfig
	Now    func() time.Time
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Issue signs an access token for userID with role and returns it with its
// expiry.
func (t *Tokens) Issue(userID string, role viewer.Role) (string, time.Time, error) {
	kid, key, ok := t.Keys.Ring().Signer()
	if !ok {
		return "", time.Time{}, engine.Errorf(engine.EINTERNAL, "no signing key configured")
	}
	now := t.now().Truncate(time.Second)
	exp := now.Add(t.Config.AccessTTL)
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, Claims{
		Role: string(role),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: t.Config.Issuer, Subject: userID, Audience: jwt.ClaimStrings{t.Config.Audience},
			ExpiresAt: jwt.NewNumericDate(exp), NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now),
			ID: hex.EncodeToString(jti[:]),
		},
	})
	tok.Header["kid"] = kid
	tok.Header["typ"] = AccessTokenType
	s, err := tok.SignedString(key)
	if err != nil {
		return "", time.Time{}, engine.Wrap(err, engine.EINTERNAL, "internal error")
	}
	return s, exp, nil
}

var errBadKey = errors.New("unknown or missing kid")

// Verify checks an access token: EdDSA only (so "none" and HS256 keyed with
// a public key are refused), typ at+jwt, kid in the local ring, exp required,
// nbf, iat, iss and aud checked with at most MaxLeeway of skew. It returns
// the viewer and the token's expiry, or EUNAUTHORIZED.
func (t *Tokens) Verify(raw string) (viewer.Viewer, time.Time, error) {
	leeway := min(t.Config.Leeway, MaxLeeway)
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(t.Config.Issuer),
		jwt.WithAudience(t.Config.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(t.now),
	)
	ring := t.Keys.Ring()
	var c Claims
	_, err := p.ParseWithClaims(raw, &c, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); typ != AccessTokenType {
			return nil, errors.New("wrong typ")
		}
		kid, _ := tok.Header["kid"].(string)
		k, ok := ring.Public(kid)
		if !ok {
			return nil, errBadKey
		}
		return k, nil
	})
	if err != nil {
		msg := "invalid access token"
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "access token expired"
		}
		return viewer.Viewer{}, time.Time{}, engine.Wrap(err, engine.EUNAUTHORIZED, msg)
	}
	role := viewer.RoleUser
	switch c.Role {
	case string(viewer.RoleUser):
	case string(viewer.RoleAdmin):
		role = viewer.RoleAdmin
	default:
		return viewer.Viewer{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid access token")
	}
	if c.Subject == "" || c.ExpiresAt == nil {
		return viewer.Viewer{}, time.Time{}, engine.Errorf(engine.EUNAUTHORIZED, "invalid access token")
	}
	return viewer.Viewer{UserID: c.Subject, Role: role}, c.ExpiresAt.Time, nil
}
