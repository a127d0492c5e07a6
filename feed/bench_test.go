package feed_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/app/record"
	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/feed"
	"github.com/vitalgraph/vitalgraph/server"
	"github.com/vitalgraph/vitalgraph/server/servertest"
)

// BenchmarkFanout1000 fans each event out to 1000 subscribers of one user
// and reports the delivery latency from just before COMMIT to receipt by a
// subscriber (p50, p99, max over all deliveries) and the memory of an idle
// subscription (heap + stacks). "local" runs on the in-process bus;
// "redis" writes through instance A and subscribes on instance B, so every
// delivery crosses Redis.
func BenchmarkFanout1000(b *testing.B) {
	for _, mode := range []string{"local", "redis"} {
		b.Run(mode, func(b *testing.B) { benchFanout(b, mode, 1000) })
	}
}

func benchFanout(b *testing.B, mode string, subs int) {
	e := newEnv(b, 1)
	u := e.users[0]
	var writer, reader *feed.Hub
	switch mode {
	case "local":
		writer = newHub(b, e.st.Client, feed.NewLocalBus(), feed.Options{})
		reader = writer
	default:
		st2, err := server.OpenPostgres(context.Background(), schemaURL(b, e.st))
		require.NoError(b, err)
		b.Cleanup(func() { _ = st2.Close() })
		channel := "vitalgraph:feed:bench:" + u
		writer = newHub(b, e.st.Client, feed.NewRedisBus(redisClient(b, servertest.RedisURL()), channel, nil), feed.Options{PollInterval: time.Hour})
		reader = newHub(b, st2.Client, feed.NewRedisBus(redisClient(b, servertest.RedisURL()), channel, nil), feed.Options{PollInterval: time.Hour})
	}
	rec := record.New(writer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	all := make([]*feed.Subscription, subs)
	for i := range all {
		s, err := reader.Subscribe(ctx, u, -1, feed.Filter{})
		require.NoError(b, err)
		all[i] = s
	}
	time.Sleep(200 * time.Millisecond) // let the pumps park
	runtime.GC()
	runtime.ReadMemStats(&m1)
	perSub := float64(int64(m1.HeapInuse+m1.StackInuse)-int64(m0.HeapInuse+m0.StackInuse)) / float64(subs)

	var mu sync.Mutex
	var lat []time.Duration
	var sent sync.Map // cursor -> time.Time before commit
	var wg sync.WaitGroup
	recv := make([]chan struct{}, subs)
	for i, s := range all {
		recv[i] = make(chan struct{}, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range s.C {
				now := time.Now()
				t0, _ := sent.Load(ev.Cursor)
				mu.Lock()
				lat = append(lat, now.Sub(t0.(time.Time)))
				mu.Unlock()
				recv[i] <- struct{}{}
			}
		}()
	}
	uctx := viewer.NewContext(context.Background(), viewer.Viewer{UserID: u, Role: viewer.RoleUser})
	b.ResetTimer()
	for i := range b.N {
		tx, err := e.st.Client.Tx(uctx)
		require.NoError(b, err)
		_, err = rec.Feed(uctx, tx, u, feedevent.KindINSIGHT_CREATED, "ins_bench", nil)
		require.NoError(b, err)
		sent.Store(feed.Cursor(i+1), time.Now())
		require.NoError(b, tx.Commit())
		for _, r := range recv {
			select {
			case <-r:
			case <-time.After(30 * time.Second):
				b.Fatalf("event %d not delivered to every subscriber", i+1)
			}
		}
	}
	b.StopTimer()
	cancel()
	wg.Wait()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	b.ReportMetric(perSub, "B/idle-sub")
	b.ReportMetric(0, "ns/op")
}
