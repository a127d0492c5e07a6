package auth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeyRing is an immutable set of Ed25519 verification keys by kid, plus the
// one key that signs new tokens. Tokens are verified only against keys in
// the ring (never jku/x5u); retiring a key means removing it from the ring.
type KeyRing struct {
	public  map[string]ed25519.PublicKey
	signKID string
	signKey ed25519.PrivateKey
}

// Public returns the verification key for kid.
func (r *KeyRing) Public(kid string) (ed25519.PublicKey, bool) {
	k, ok := r.public[kid]
	return k, ok
}

// Signer returns the signing key and its kid; ok is false when the ring can
// only verify.
func (r *KeyRing) Signer() (kid string, key ed25519.PrivateKey, ok bool) {
	return r.signKID, r.signKey, r.signKey != nil
}

// KIDs lists the kids in the ring.
func (r *KeyRing) KIDs() []string {
	out := make([]string, 0, len(r.public))
	for k := range r.public {
		out = append(out, k)
	}
	return out
}

// keyFile is the JSON format of JWT_KEYS_FILE:
//
//	{"signingKey": "2025-06",
//	 "keys": [{"kid": "2025-06", "privateKey": "<base64 32-byte seed>"},
//	          {"kid": "2025-01", "publicKey": "<base64 32-byte key>"},
//	          {"kid": "2024-12", "privateKeyPem": "-----BEGIN PRIVATE KEY-----…"}]}
//
// Every listed key verifies; the signingKey (which needs a private key) signs.
type keyFile struct {
	SigningKey string `json:"signingKey"`
	Keys       []struct {
		KID           string `json:"kid"`
		Alg           string `json:"alg"`
		PrivateKey    string `json:"privateKey"`
		PublicKey     string `json:"publicKey"`
		PrivateKeyPEM string `json:"privateKeyPem"`
		PublicKeyPEM  string `json:"publicKeyPem"`
	} `json:"keys"`
}

// ParseKeyRing parses the JSON key file format. Every problem is reported.
func ParseKeyRing(data []byte) (*KeyRing, error) {
	var f keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("JWT keys file is not valid JSON: %w", err)
	}
	ring := &KeyRing{public: map[string]ed25519.PublicKey{}}
	privs := map[string]ed25519.PrivateKey{}
	var errs []error
	for i, k := range f.Keys {
		if k.KID == "" || len(k.KID) > 64 {
			errs = append(errs, fmt.Errorf("key %d: kid must be 1 to 64 characters", i))
			continue
		}
		if k.Alg != "" && k.Alg != "EdDSA" {
			errs = append(errs, fmt.Errorf("key %q: only EdDSA (Ed25519) keys are supported, got %q", k.KID, k.Alg))
			continue
		}
		if _, dup := ring.public[k.KID]; dup {
			errs = append(errs, fmt.Errorf("key %q: duplicate kid", k.KID))
			continue
		}
		priv, pub, err := decodeKey(k.PrivateKey, k.PublicKey, k.PrivateKeyPEM, k.PublicKeyPEM)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %q: %w", k.KID, err))
			continue
		}
		ring.public[k.KID] = pub
		if priv != nil {
			privs[k.KID] = priv
		}
	}
	if len(ring.public) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("JWT keys file lists no keys"))
	}
	if f.SigningKey != "" {
		if p, ok := privs[f.SigningKey]; ok {
			ring.signKID, ring.signKey = f.SigningKey, p
		} else {
			errs = append(errs, fmt.Errorf("signingKey %q is not a listed key with a private key", f.SigningKey))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ring, nil
}

func decodeKey(privB64, pubB64, privPEM, pubPEM string) (ed25519.PrivateKey, ed25519.PublicKey, error) {
	switch {
	case privB64 != "":
		seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(privB64))
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, nil, errors.New("privateKey must be a base64 32-byte Ed25519 seed")
		}
		priv := ed25519.NewKeyFromSeed(seed)
		return priv, priv.Public().(ed25519.PublicKey), nil
	case pubB64 != "":
		pub, err := base64.StdEncoding.DecodeString(strings.TrimSpace(pubB64))
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, nil, errors.New("publicKey must be a base64 32-byte Ed25519 public key")
		}
		return nil, pub, nil
	case privPEM != "":
		b, _ := pem.Decode([]byte(privPEM))
		if b == nil {
			return nil, nil, errors.New("privateKeyPem is not PEM")
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		priv, ok := k.(ed25519.PrivateKey)
		if err != nil || !ok {
			return nil, nil, errors.New("privateKeyPem must be a PKCS#8 Ed25519 private key")
		}
		return priv, priv.Public().(ed25519.PublicKey), nil
	case pubPEM != "":
		b, _ := pem.Decode([]byte(pubPEM))
		if b == nil {
			return nil, nil, errors.New("publicKeyPem is not PEM")
		}
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		pub, ok := k.(ed25519.PublicKey)
		if err != nil || !ok {
			return nil, nil, errors.New("publicKeyPem must be a PKIX Ed25519 public key")
		}
		return nil, pub, nil
	}
	return nil, nil, errors.New("needs privateKey, publicKey, privateKeyPem or publicKeyPem")
}

// NewEphemeralKeyRing returns a ring with one freshly generated key; dev
// mode uses it when no JWT_KEYS_FILE is configured (tokens die on restart).
func NewEphemeralKeyRing() (*KeyRing, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	kid := "dev-ephemeral-" + base64.RawURLEncoding.EncodeToString(pub[:6])
	return &KeyRing{public: map[string]ed25519.PublicKey{kid: pub}, signKID: kid, signKey: priv}, nil
}

// Keys holds the current KeyRing; readers never block.
type Keys struct {
	ring atomic.Pointer[KeyRing]
}

// NewStaticKeys returns Keys that always hold ring.
func NewStaticKeys(ring *KeyRing) *Keys {
	k := &Keys{}
	k.ring.Store(ring)
	return k
}

// Ring returns the current ring.
func (k *Keys) Ring() *KeyRing { return k.ring.Load() }

// FileKeys is Keys loaded from a file and re-read when its content changes
// (checked every interval), so keys can be added and retired without a
// restart. A file that fails to parse is logged and the previous ring kept.
type FileKeys struct {
	Keys
	path string
	log  *slog.Logger
	mu   sync.Mutex
	sum  [32]byte
}

// LoadFileKeys reads path (failing when it is missing or invalid).
func LoadFileKeys(path string, log *slog.Logger) (*FileKeys, error) {
	fk := &FileKeys{path: path, log: log}
	if _, err := fk.Reload(); err != nil {
		return nil, err
	}
	return fk, nil
}

// Reload re-reads the file; changed reports whether the ring was replaced.
func (f *FileKeys) Reload() (changed bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false, fmt.Errorf("reading JWT_KEYS_FILE: %w", err)
	}
	sum := sha256.Sum256(data)
	if sum == f.sum && f.Ring() != nil {
		return false, nil
	}
	ring, err := ParseKeyRing(data)
	if err != nil {
		return false, fmt.Errorf("JWT_KEYS_FILE %s: %w", f.path, err)
	}
	f.ring.Store(ring)
	f.sum = sum
	return true, nil
}

// Watch reloads the file every interval until ctx ends.
func (f *FileKeys) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := f.Reload()
			if err != nil {
				f.log.WarnContext(ctx, "jwt keys reload failed; keeping previous keys", slog.Any("err", err))
			} else if changed {
				f.log.InfoContext(ctx, "jwt keys reloaded", slog.Any("kids", f.Ring().KIDs()))
			}
		}
	}
}

// ExampleKeyFile is the key file printed in docs/security.md. It is public,
// so outside dev mode a ring holding its key is refused.
const ExampleKeyFile = `{"signingKey": "example-2025",
 "keys": [{"kid": "example-2025", "privateKey": "dml0YWxncmFwaC1leGFtcGxlLWtleS1kby1ub3QtdXM="}]}`

// IsInsecureKeyRing reports whether ring contains the example key or a key
// whose kid marks it as a dev key ("dev-…", "example…").
func IsInsecureKeyRing(ring *KeyRing) bool {
	ex, err := ParseKeyRing([]byte(ExampleKeyFile))
	if err != nil {
		return true
	}
	exPub, _ := ex.Public("example-2025")
	for kid, pub := range ring.public {
		if strings.HasPrefix(kid, "dev") || strings.HasPrefix(kid, "example") || pub.Equal(exPub) {
			return true
		}
	}
	return false
}
