// Package connect links a user's wearable account (WHOOP, Oura) over OAuth
// 2.0 and keeps it in sync: the authorization link (code + PKCE, a state
// sealed to the viewer with a short expiry), the callback, tokens sealed at
// rest (KeyRing), refresh before expiry, revocation on disconnect, and the
// sync job that reads new records since the connection's cursor, maps them
// through engine/providers (the same adapters as ingestProviderPayload),
// ingests them idempotently, revises rescored values and triggers the loop.
//
// The provider's HTTP API is behind the Provider interface, declared here
// and implemented by the wearable adapter (no HTTP in app/).
package connect

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vitalgraph/vitalgraph/app/ingest"
	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine"
	"github.com/vitalgraph/vitalgraph/engine/metrics"
	"github.com/vitalgraph/vitalgraph/engine/providers"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/providerconnection"
)

// Token is an OAuth token pair as a provider returns it.
type Token struct {
	Access  string
	Refresh string
	Expiry  time.Time // zero: the provider did not say
}

// Provider is one wearable's OAuth 2.0 and REST API.
type Provider interface {
	// AuthCodeURL is the authorization link for state, with the S256
	// challenge of verifier (RFC 7636).
	AuthCodeURL(state, verifier string) string
	// Exchange trades an authorization code for tokens. A refused code is
	// EINVALID.
	Exchange(ctx context.Context, code, verifier string) (Token, error)
	// Refresh trades a refresh token for new tokens; a refused refresh
	// token is EUNAUTHORIZED (the user must connect again).
	Refresh(ctx context.Context, refreshToken string) (Token, error)
	// Revoke revokes the access the tokens grant.
	Revoke(ctx context.Context, tok Token) error
	// UserID is the provider's id of the account behind accessToken (the
	// id its webhooks name).
	UserID(ctx context.Context, accessToken string) (string, error)
	// Fetch pages through every collection the provider's parser reads
	// for records in [since, until) and returns them as one bundle payload
	// for engine/providers.Parse. Rate limits (429 + Retry-After) are
	// waited out up to the adapter's limit, then returned as ELIMIT.
	Fetch(ctx context.Context, accessToken string, since, until time.Time) ([]byte, error)
}

// Queue schedules background jobs (app/jobs implements it).
type Queue interface {
	EnqueueSync(ctx context.Context, connectionID string) error
	EnqueueLoop(ctx context.Context, userID string) error
}

// StateGuard remembers used OAuth states so a callback cannot be replayed
// (the server's Redis-backed guard, shared by every instance).
type StateGuard interface {
	// FirstUse reports whether key is used for the first time within ttl,
	// and remembers it.
	FirstUse(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Service runs the connection use cases.
type Service struct {
	Client    *ent.Client
	Providers map[providerconnection.Provider]Provider // configured providers
	Keys      *KeyRing
	Ingest    *ingest.Service
	Recorder  *record.Recorder
	Jobs      Queue      // nil: no background jobs (syncs run only when called)
	States    StateGuard // nil: an in-process guard (one instance only)
	Now       func() time.Time

	localStates memGuard
}

// memGuard is the in-process StateGuard.
type memGuard struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (g *memGuard) FirstUse(_ context.Context, key string, ttl time.Duration) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	for k, until := range g.seen {
		if now.After(until) {
			delete(g.seen, k)
		}
	}
	if until, ok := g.seen[key]; ok && now.Before(until) {
		return false, nil
	}
	g.seen[key] = now.Add(ttl)
	return true, nil
}

func (s *Service) states() StateGuard {
	if s.States != nil {
		return s.States
	}
	return &s.localStates
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Source is the observation source of a provider's records.
func Source(p providerconnection.Provider) string {
	return strings.ToLower(string(p))
}

func (s *Service) provider(p providerconnection.Provider) (Provider, error) {
	if impl, ok := s.Providers[p]; ok {
		return impl, nil
	}
	switch p {
	case providerconnection.ProviderWHOOP, providerconnection.ProviderOURA:
		return nil, engine.Errorf(engine.EINVALID, "%s is not configured on this server (%s_CLIENT_ID and %s_CLIENT_SECRET)", p, p, p)
	}
	return nil, engine.Errorf(engine.EINVALID, "%s cannot be connected with OAuth; use ingestProviderPayload or an import", p)
}

// oauthState is what the state parameter seals.
type oauthState struct {
	UserID   string `json:"u"`
	Provider string `json:"p"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"` // unix seconds
}

const stateContext = "oauth-state"

// Link is an authorization link and when it stops working.
type Link struct {
	URL     string
	Expires time.Time
}

// Connect returns the authorization link that starts connecting provider
// for userID. The link's state seals the user, the provider and the PKCE
// verifier and expires after providers.OAuthStateTTL. EINVALID for a
// provider that is not configured or has no OAuth.
func (s *Service) Connect(_ context.Context, userID string, p providerconnection.Provider) (Link, error) {
	impl, err := s.provider(p)
	if err != nil {
		return Link{}, err
	}
	verifier := randomVerifier()
	exp := s.now().Add(providers.OAuthStateTTL).Truncate(time.Second)
	st, err := json.Marshal(oauthState{UserID: userID, Provider: string(p), Verifier: verifier, Expires: exp.Unix()})
	if err != nil {
		return Link{}, fmt.Errorf("sealing state: %w", err)
	}
	return Link{URL: impl.AuthCodeURL(s.Keys.Seal(string(st), stateContext), verifier), Expires: exp.UTC()}, nil
}

// randomVerifier is a PKCE code verifier: 32 random bytes, base64url (43
// characters, RFC 7636 §4.1).
func randomVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Complete finishes the authorization for the callback of provider p with
// the state and code the provider sent back: the code is exchanged (with
// the verifier sealed in the state), the tokens are sealed onto the user's
// connection, which becomes CONNECTED (audited), and a first sync is
// queued. EINVALID when the state is not one Connect issued, has expired,
// names another provider or was used before (a state is single-use: a
// replayed callback is refused even before the provider would refuse its
// code), or when the provider refuses the code.
func (s *Service) Complete(ctx context.Context, p providerconnection.Provider, state, code string) (*ent.ProviderConnection, error) {
	impl, err := s.provider(p)
	if err != nil {
		return nil, err
	}
	raw, err := s.Keys.Open(state, stateContext)
	var st oauthState
	if err != nil || raw == "" || json.Unmarshal([]byte(raw), &st) != nil || st.UserID == "" {
		return nil, engine.Errorf(engine.EINVALID, "the authorization link is not valid; start connecting again")
	}
	if st.Provider != string(p) {
		return nil, engine.Errorf(engine.EINVALID, "the authorization link was issued for %s, not %s", st.Provider, p)
	}
	if s.now().Unix() > st.Expires {
		return nil, engine.Errorf(engine.EINVALID, "the authorization link has expired; start connecting again")
	}
	if strings.TrimSpace(code) == "" {
		return nil, engine.Errorf(engine.EINVALID, "the provider sent no authorization code")
	}
	// Used up now, whatever happens next: the provider's code is single-use
	// too, so a failed exchange means starting again anyway. Remembered
	// for a state's whole life (plus a minute of clock skew).
	first, err := s.states().FirstUse(ctx, state, providers.OAuthStateTTL+time.Minute)
	if err != nil {
		return nil, engine.Wrap(err, engine.EINTERNAL, "checking the authorization link failed")
	}
	if !first {
		return nil, engine.Errorf(engine.EINVALID, "the authorization link was already used; start connecting again")
	}
	tok, err := impl.Exchange(ctx, code, st.Verifier)
	if err != nil {
		return nil, err
	}
	extID, err := impl.UserID(ctx, tok.Access)
	if err != nil {
		return nil, err
	}
	sctx := viewer.System(ctx)
	var conn *ent.ProviderConnection
	err = s.withTx(sctx, func(tx *ent.Tx) error {
		c, err := s.Ingest.SetConnection(sctx, tx, st.UserID, p, providerconnection.StatusCONNECTED, s.now())
		if err != nil {
			return err
		}
		upd := s.sealTokens(c.Update(), c.ID, tok).SetExternalUserID(extID).
			SetSyncStatus(providerconnection.SyncStatusQUEUED).ClearLastError()
		conn, err = upd.Save(sctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.enqueueSync(ctx, conn.ID)
	return conn, nil
}

// sealTokens sets the sealed token columns of an update from tok.
func (s *Service) sealTokens(u *ent.ProviderConnectionUpdateOne, connID string, tok Token) *ent.ProviderConnectionUpdateOne {
	u.SetAccessTokenSealed(s.Keys.Seal(tok.Access, connID+"/access")).
		SetRefreshTokenSealed(s.Keys.Seal(tok.Refresh, connID+"/refresh"))
	if tok.Expiry.IsZero() {
		u.ClearTokenExpiresAt()
	} else {
		u.SetTokenExpiresAt(tok.Expiry.UTC())
	}
	return u
}

func (s *Service) openTokens(c *ent.ProviderConnection) (Token, error) {
	access, err := s.Keys.Open(c.AccessTokenSealed, c.ID+"/access")
	if err != nil {
		return Token{}, err
	}
	refresh, err := s.Keys.Open(c.RefreshTokenSealed, c.ID+"/refresh")
	if err != nil {
		return Token{}, err
	}
	t := Token{Access: access, Refresh: refresh}
	if c.TokenExpiresAt != nil {
		t.Expiry = *c.TokenExpiresAt
	}
	return t, nil
}

func (s *Service) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

func (s *Service) enqueueSync(ctx context.Context, connID string) {
	if s.Jobs == nil {
		return
	}
	// Best effort: the periodic schedule picks the connection up anyway.
	_ = s.Jobs.EnqueueSync(context.WithoutCancel(ctx), connID)
}

// connection loads the viewer's connection to p inside tx (ENOTFOUND when
// there is none).
func connection(ctx context.Context, tx *ent.Tx, userID string, p providerconnection.Provider) (*ent.ProviderConnection, error) {
	c, err := tx.ProviderConnection.Query().
		Where(providerconnection.UserID(userID), providerconnection.ProviderEQ(p)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, engine.Errorf(engine.ENOTFOUND, "no %s connection", p)
	}
	return c, err
}

// RequestSync marks the viewer's OAuth connection to p QUEUED inside tx;
// the caller enqueues the job (EnqueueSync) after commit. EINVALID when
// the connection is not connected over OAuth.
func (s *Service) RequestSync(ctx context.Context, tx *ent.Tx, userID string, p providerconnection.Provider) (*ent.ProviderConnection, error) {
	c, err := connection(ctx, tx, userID, p)
	if err != nil {
		return nil, err
	}
	if c.Status != providerconnection.StatusCONNECTED || c.AccessTokenSealed == "" {
		return nil, engine.Errorf(engine.EINVALID, "%s is not connected; connect it first (connectProvider)", p)
	}
	return c.Update().SetSyncStatus(providerconnection.SyncStatusQUEUED).Save(ctx)
}

// Disconnect revokes the viewer's tokens at the provider (best effort: a
// failed revocation is audited, the tokens are dropped all the same),
// forgets them and marks the connection DISCONNECTED (its baselines
// freeze) inside tx. No row is locked while the provider is called.
func (s *Service) Disconnect(ctx context.Context, tx *ent.Tx, userID string, p providerconnection.Provider) (*ent.ProviderConnection, error) {
	c, err := connection(ctx, tx, userID, p)
	if err != nil {
		return nil, err
	}
	revoked := false
	if impl, ok := s.Providers[p]; ok && c.AccessTokenSealed != "" {
		if tok, err := s.openTokens(c); err == nil && impl.Revoke(ctx, tok) == nil {
			revoked = true
		}
	}
	c, err = s.Ingest.SetConnection(ctx, tx, userID, p, providerconnection.StatusDISCONNECTED, s.now())
	if err != nil {
		return nil, err
	}
	c, err = c.Update().ClearAccessTokenSealed().ClearRefreshTokenSealed().ClearTokenExpiresAt().
		SetSyncStatus(providerconnection.SyncStatusIDLE).Save(ctx)
	if err != nil {
		return nil, err
	}
	if s.Recorder != nil {
		reason := fmt.Sprintf("%s access revoked at the provider and the tokens deleted", p)
		if !revoked {
			reason = fmt.Sprintf("%s tokens deleted; the provider did not confirm the revocation", p)
		}
		if _, err := s.Recorder.Audit(ctx, tx, record.Audit{
			UserID: userID, EntityType: "ProviderConnection", EntityID: c.ID, Action: "revoke",
			Decision: map[bool]string{true: "revoked", false: "revocation_unconfirmed"}[revoked], Reason: reason,
			Details: map[string]any{"provider": string(p), "revoked": revoked},
		}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Webhook queues a sync of every connected connection of provider p whose
// provider account id is externalUserID, and returns how many were queued.
// The caller has verified the delivery's signature and freshness.
func (s *Service) Webhook(ctx context.Context, p providerconnection.Provider, externalUserID string) (int, error) {
	sctx := viewer.System(ctx)
	conns, err := s.Client.ProviderConnection.Query().
		Where(providerconnection.ProviderEQ(p), providerconnection.ExternalUserID(externalUserID),
			providerconnection.StatusEQ(providerconnection.StatusCONNECTED)).All(sctx)
	if err != nil {
		return 0, err
	}
	for _, c := range conns {
		if err := c.Update().SetSyncStatus(providerconnection.SyncStatusQUEUED).Exec(sctx); err != nil {
			return 0, err
		}
		s.enqueueSync(ctx, c.ID)
	}
	return len(conns), nil
}

// Due lists the connections a periodic sync should queue: every connected
// OAuth connection.
func (s *Service) Due(ctx context.Context) ([]string, error) {
	return s.Client.ProviderConnection.Query().
		Where(providerconnection.StatusEQ(providerconnection.StatusCONNECTED), providerconnection.AccessTokenSealedNEQ("")).
		IDs(viewer.System(ctx))
}

// Cursor is a connection's sync position, stored as JSON.
type Cursor struct {
	// Until is the end of the last window synced completely.
	Until time.Time `json:"until"`
}

// SyncResult says what one sync did.
type SyncResult struct {
	Skipped   bool // the connection is not connected over OAuth: nothing to do
	Received  int  // samples parsed from the provider's records
	Inserted  int
	Revised   int // stored values a rescore changed
	Rejected  int // samples refused by validation (left out, reported in lastError)
	Records   int // provider records skipped by the adapter (pending score, naps…)
	Refreshed bool
	Since     time.Time
	Until     time.Time
}

// Sync runs one sync of connection connID as the system: refreshes the
// access token when it expires within providers.TokenRefreshMargin (the new
// tokens are stored at once), reads the provider's records in the window
// providers.SyncWindow gives for the stored cursor, maps them with
// engine/providers, stores the new samples (ingest.Service.Ingest: natural
// keys make it idempotent), revises rescored values (ingest.Service.Revise)
// and moves the cursor, all in one transaction with a PROVIDER_SYNCED feed
// event; then queues a loop run when anything changed. On failure the
// connection shows status ERROR with lastError (a user-safe message), a
// feed event says so, and the error is returned so the job retries.
func (s *Service) Sync(ctx context.Context, connID string) (SyncResult, error) {
	sctx := viewer.System(ctx)
	c, err := s.Client.ProviderConnection.Get(sctx, connID)
	if err != nil {
		return SyncResult{}, err
	}
	impl, ok := s.Providers[c.Provider]
	if !ok || c.Status != providerconnection.StatusCONNECTED || c.AccessTokenSealed == "" {
		return SyncResult{Skipped: true}, nil
	}
	if err := c.Update().SetSyncStatus(providerconnection.SyncStatusSYNCING).Exec(sctx); err != nil {
		return SyncResult{}, err
	}
	res, err := s.sync(sctx, c, impl)
	if err != nil {
		if ferr := s.fail(sctx, c, err); ferr != nil {
			return res, errors.Join(err, ferr)
		}
		return res, err
	}
	return res, nil
}

func (s *Service) sync(ctx context.Context, c *ent.ProviderConnection, impl Provider) (SyncResult, error) {
	var res SyncResult
	tok, err := s.openTokens(c)
	if err != nil {
		return res, err
	}
	now := s.now()
	if !tok.Expiry.IsZero() && tok.Expiry.Before(now.Add(providers.TokenRefreshMargin)) {
		fresh, err := impl.Refresh(ctx, tok.Refresh)
		if err != nil {
			return res, err
		}
		if fresh.Refresh == "" {
			fresh.Refresh = tok.Refresh // providers may keep the refresh token
		}
		// Stored at once: the provider may have invalidated the old refresh
		// token, and a failure below must not lose the new one.
		if err := s.sealTokens(c.Update(), c.ID, fresh).Exec(ctx); err != nil {
			return res, err
		}
		tok, res.Refreshed = fresh, true
	}
	var cur Cursor
	if c.SyncCursor != "" {
		_ = json.Unmarshal([]byte(c.SyncCursor), &cur) // a bad cursor reads the backfill again
	}
	res.Since, res.Until = providers.SyncWindow(cur.Until, now)
	payload, err := impl.Fetch(ctx, tok.Access, res.Since, res.Until)
	if err != nil {
		return res, err
	}
	parsed, err := providers.Parse(Source(c.Provider), payload)
	if err != nil {
		return res, engine.Wrap(err, engine.EINVALID, fmt.Sprintf("%s returned records of an unexpected shape", c.Provider))
	}
	res.Records = len(parsed.Skipped)
	res.Received = len(parsed.Samples)
	checked := metrics.ValidateBatch(parsed.Samples, now, metrics.Options{MaxBatch: len(parsed.Samples) + 1, Earliest: s.Ingest.Earliest})
	res.Rejected = len(checked.Problems)
	curJSON, _ := json.Marshal(Cursor{Until: res.Until.UTC()})
	err = s.withTx(ctx, func(tx *ent.Tx) error {
		maxBatch := s.Ingest.MaxBatch
		if maxBatch <= 0 {
			maxBatch = ingest.DefaultMaxBatch
		}
		for i := 0; i < len(checked.Accepted); i += maxBatch {
			part := checked.Accepted[i:min(i+maxBatch, len(checked.Accepted))]
			samples := make([]metrics.Sample, len(part))
			for j, ch := range part {
				samples[j] = ch.Sample
			}
			r, err := s.Ingest.Ingest(ctx, tx, c.UserID, samples, syncKey(c.ID, samples))
			if err != nil {
				return err
			}
			res.Inserted += r.Inserted
			revs, err := s.Ingest.Revise(ctx, tx, c.UserID, part, r.BatchID)
			if err != nil {
				return err
			}
			res.Revised += len(revs)
		}
		// tx's client, not c's: c was loaded outside the transaction.
		upd := tx.ProviderConnection.UpdateOneID(c.ID).SetLastSyncAt(now.UTC()).SetSyncCursor(string(curJSON)).SetSyncStatus(providerconnection.SyncStatusOK)
		if res.Rejected > 0 {
			upd.SetLastError(fmt.Sprintf("%d sample(s) from %s failed validation and were left out", res.Rejected, c.Provider))
		} else {
			upd.ClearLastError()
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
		if s.Recorder == nil {
			return nil
		}
		_, err := s.Recorder.Feed(ctx, tx, c.UserID, feedevent.KindPROVIDER_SYNCED, c.ID, map[string]any{
			"provider": string(c.Provider), "status": string(providerconnection.SyncStatusOK),
			"inserted": res.Inserted, "revised": res.Revised, "rejected": res.Rejected,
		})
		return err
	})
	if err != nil {
		return res, err
	}
	if (res.Inserted > 0 || res.Revised > 0) && s.Jobs != nil {
		_ = s.Jobs.EnqueueLoop(context.WithoutCancel(ctx), c.UserID) // best effort: runLoop catches up
	}
	return res, nil
}

// syncKey is the idempotency key of one chunk of a sync: the same samples
// re-sent by a retried sync replay the first result.
func syncKey(connID string, samples []metrics.Sample) string {
	h := sha256.New()
	for _, s := range samples {
		fmt.Fprintf(h, "%s|%s|%s|%d|%v|%s\n", s.Metric, s.LocalDay, s.Unit, s.ObservedAt.UnixNano(), s.Value, s.Source)
	}
	return "sync:" + connID + ":" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))[:32]
}

// fail records a failed sync on the connection and the feed.
func (s *Service) fail(ctx context.Context, c *ent.ProviderConnection, cause error) error {
	msg := engine.ErrorMessage(cause)
	if engine.ErrorCode(cause) == engine.EINTERNAL {
		msg = "the sync failed; it will be retried"
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return s.withTx(ctx, func(tx *ent.Tx) error {
		if err := tx.ProviderConnection.UpdateOneID(c.ID).SetSyncStatus(providerconnection.SyncStatusERROR).SetLastError(msg).Exec(ctx); err != nil {
			return err
		}
		if s.Recorder == nil {
			return nil
		}
		_, err := s.Recorder.Feed(ctx, tx, c.UserID, feedevent.KindPROVIDER_SYNCED, c.ID, map[string]any{
			"provider": string(c.Provider), "status": string(providerconnection.SyncStatusERROR), "error": msg,
		})
		return err
	})
}
