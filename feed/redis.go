package feed

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultChannel is the Redis pub/sub channel of feed hints.
const DefaultChannel = "vitalgraph:feed"

// RedisBus is the Bus of a multi-instance deployment: hints are PUBLISHed on
// one channel and every instance holds ONE subscription connection to it
// (not one per subscriber). Redis pub/sub is at-most-once, so a hint is
// only a wake-up call; after every (re)subscription the handler resyncs
// from the database.
type RedisBus struct {
	client  *redis.Client
	channel string
	log     *slog.Logger
	// idle is how long a receive may wait before the connection is pinged.
	idle time.Duration
}

// NewRedisBus returns a bus on client's server. channel "" means
// DefaultChannel.
func NewRedisBus(client *redis.Client, channel string, log *slog.Logger) *RedisBus {
	if channel == "" {
		channel = DefaultChannel
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RedisBus{client: client, channel: channel, log: log, idle: 15 * time.Second}
}

// Publish implements Bus.
func (b *RedisBus) Publish(ctx context.Context, h Hint) error {
	return b.client.Publish(ctx, b.channel, h.encode()).Err()
}

// Run implements Bus. go-redis reconnects a broken PubSub connection and
// re-sends SUBSCRIBE; the server's confirmation arrives here as a
// *redis.Subscription, which is when the handler resyncs.
func (b *RedisBus) Run(ctx context.Context, h Handler) error {
	ps := b.client.Subscribe(ctx, b.channel)
	// A blocked receive does not watch ctx: closing the PubSub ends it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer func() {
		if stop() {
			_ = ps.Close()
		}
	}()
	const minBackoff, maxBackoff = 50 * time.Millisecond, 2 * time.Second
	backoff := minBackoff
	down := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, b.idle)
		if err != nil {
			if ctx.Err() != nil {
				return nil // shutting down
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Idle: a ping proves the connection (and reconnects it if bad).
				if perr := ps.Ping(ctx); perr == nil {
					continue
				}
			}
			if !down {
				b.log.WarnContext(ctx, "feed bus connection lost", slog.Any("err", err))
				down = true
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		backoff = minBackoff
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if down {
					b.log.InfoContext(ctx, "feed bus reconnected")
					down = false
				}
				h.Resync()
			}
		case *redis.Message:
			if hint, ok := decodeHint(m.Payload); ok {
				h.Hint(hint)
			}
		}
	}
}
