package connect

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/vitalgraph/vitalgraph/engine"
)

// KeyRing seals provider OAuth tokens with AES-256-GCM. The first key seals;
// every key opens, so a key is rotated by putting a new one first and
// dropping the old one once Rekey has resealed every token (or every token
// sealed under it has been refreshed, which reseals with the first key).
type KeyRing struct {
	kids  []string
	aeads map[string]cipher.AEAD
}

// ParseKeyRing parses "kid:base64key[,kid:base64key…]" (PROVIDER_TOKEN_KEYS);
// each key is 32 random bytes, standard or URL base64. The first key seals.
// It returns EINVALID for a malformed list, a short key or a repeated kid.
func ParseKeyRing(spec string) (*KeyRing, error) {
	r := &KeyRing{aeads: map[string]cipher.AEAD{}}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kid, b64, ok := strings.Cut(part, ":")
		if !ok || kid == "" || strings.ContainsAny(kid, ".: ") {
			return nil, engine.Errorf(engine.EINVALID, "PROVIDER_TOKEN_KEYS: each entry is kid:base64key (kid without '.', ':' or spaces)")
		}
		key, err := decodeKey(b64)
		if err != nil || len(key) != 32 {
			return nil, engine.Errorf(engine.EINVALID, "PROVIDER_TOKEN_KEYS: key %q must be 32 bytes of base64", kid)
		}
		if err := r.add(kid, key); err != nil {
			return nil, err
		}
	}
	if len(r.kids) == 0 {
		return nil, engine.Errorf(engine.EINVALID, "PROVIDER_TOKEN_KEYS holds no key")
	}
	return r, nil
}

// EphemeralKeyRing is a ring of one random key, for dev mode and tests:
// tokens sealed with it do not survive a restart.
func EphemeralKeyRing() *KeyRing {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go ≥ 1.24)
	r := &KeyRing{aeads: map[string]cipher.AEAD{}}
	_ = r.add("ephemeral", key)
	return r
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

func (r *KeyRing) add(kid string, key []byte) error {
	if _, dup := r.aeads[kid]; dup {
		return engine.Errorf(engine.EINVALID, "PROVIDER_TOKEN_KEYS: kid %q appears twice", kid)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return engine.Wrap(err, engine.EINVALID, "PROVIDER_TOKEN_KEYS: bad key")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return engine.Wrap(err, engine.EINVALID, "PROVIDER_TOKEN_KEYS: bad key")
	}
	r.kids = append(r.kids, kid)
	r.aeads[kid] = aead
	return nil
}

// Seal encrypts plaintext bound to context (e.g. the connection id and the
// column), as "v1.<kid>.<base64 nonce‖ciphertext>". An empty plaintext
// seals to "".
func (r *KeyRing) Seal(plaintext, context string) string {
	if plaintext == "" {
		return ""
	}
	kid := r.kids[0]
	aead := r.aeads[kid]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return "v1." + kid + "." + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts a value Seal produced with the same context. It returns
// EINTERNAL when the key is not in the ring or the value was altered or
// moved to another context.
func (r *KeyRing) Open(sealed, context string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", engine.Errorf(engine.EINTERNAL, "a sealed token has an unknown format")
	}
	aead, ok := r.aeads[parts[1]]
	if !ok {
		return "", engine.Errorf(engine.EINTERNAL, "a sealed token uses key %q, which is not in PROVIDER_TOKEN_KEYS", parts[1])
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize() {
		return "", engine.Errorf(engine.EINTERNAL, "a sealed token is corrupt")
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(context))
	if err != nil {
		return "", engine.Errorf(engine.EINTERNAL, "a sealed token does not open (altered or wrong key)")
	}
	return string(pt), nil
}

// Current is the kid that seals.
func (r *KeyRing) Current() string { return r.kids[0] }

// SealedWith returns the kid of a sealed value ("" when it is not sealed).
func SealedWith(sealed string) string {
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 {
		return ""
	}
	return parts[1]
}
