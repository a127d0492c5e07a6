// Package feed is the live-event adapter of Vitalgraph: it turns the
// transactional outbox (FeedEvent rows, written by app/record in the same
// transaction as the decision they announce) into resumable, per-user live
// streams for GraphQL subscriptions.
//
// It is a top-level package, beside engine/ and ent/, because it is an
// adapter with its own infrastructure dependency (Redis pub/sub) that both
// the server (wiring, transports) and the resolvers use; engine/ must stay
// free of I/O and server/ must not be imported by resolvers.
//
// Design (see docs/design.md and docs/reliability.md §2):
//
//   - PostgreSQL is the truth. Every subscriber keeps the cursor (the per-user
//     monotonic seq) of the last event it was given and only ever reads rows
//     after it, in seq order, so there is no gap and no duplicate at the seam
//     between replay and live tailing.
//   - A Bus carries wake-up hints between server instances: RedisBus uses ONE
//     pub/sub connection per instance on one channel; LocalBus is the
//     in-process default when REDIS_URL is empty. Hints may be lost; a lost
//     hint only delays delivery until the next hint, the periodic safety poll
//     or, after a Redis reconnect, the resync of every stream.
//   - The Hub owns the local subscribers. Subscribers of one user share one
//     in-memory window of recent events (one query per wake-up, whatever the
//     number of subscribers) and the user's one reader pushes new events
//     into the buffers of the subscribers that are caught up, without
//     blocking: an idle subscriber costs no goroutine. A subscriber that is
//     behind (a replay, a full buffer) gets a catch-up goroutine that reads
//     the window or, when it is behind the window, PostgreSQL. Each
//     subscriber has a bounded buffer; one that does not make room within
//     SlowConsumerTimeout is cut off with ELIMIT ("slow consumer") and may
//     resume from its cursor, so it never stalls the others.
//   - Events committed by this process skip the read: the Recorder hands
//     the rows its commit hook wrote (record.EventNotifier) to the Hub after
//     COMMIT, and the stream's reader appends them to its window when they
//     continue it without a gap; any gap (another instance's events, an
//     announcement arriving late) is filled by reading the outbox, and
//     cursors already in the window are ignored, so subscribers still see
//     every cursor once and in order. The hint to other instances carries
//     the newest cursor, so this instance ignores its own hint coming back.
//   - What an event needs for delivery is worked out once per event, not
//     once per subscriber: its payload's JSON (FeedItem.payload is written
//     as those bytes) and the insight of an insightCreated event.
//   - Only the subscribing user's events are ever read: every query is as the
//     system viewer but always filtered by that user's id.
package feed
