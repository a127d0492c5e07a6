package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/vitalgraph/vitalgraph/engine/viewer"
	"github.com/vitalgraph/vitalgraph/ent/feedevent"
	"github.com/vitalgraph/vitalgraph/ent/user"
	"github.com/vitalgraph/vitalgraph/server"
)

// The feed rows. Subscribers live in a child process (vgbench
// -feed-client), so that the server's memory per idle socket is the
// server's alone and the clients do not take the server's CPU in the Go
// scheduler. Events are written in process through the App's Recorder (one
// transaction with one feed event each, at a constant open-loop rate): the
// lag is the subscriber's receive time minus the event's createdAt, which is
// taken right before COMMIT. The baseline is bare Redis: PUBLISH of a
// timestamp to N SUBSCRIBE connections, in the same child, at the same rate.

const feedSubscription = `subscription { feed { cursor kind createdAt payload } }`

// clientConfig is the child's first stdin line.
type clientConfig struct {
	Mode    string   `json:"mode"` // "ws" or "redis"
	URL     string   `json:"url"`  // ws:// URL of /graphql, or the Redis URL
	Channel string   `json:"channel"`
	PerSub  bool     `json:"perSub"` // redis: subscriber i listens on Channel:i
	Users   []string `json:"users"`  // one socket per entry (ws)
	N       int      `json:"n"`      // subscribers (redis)
}

// clientResult is the child's last stdout line.
type clientResult struct {
	Received int       `json:"received"`
	Lags     []float64 `json:"lags"` // ms, sampled
	Err      string    `json:"err,omitempty"`
}

// feedClient is the child: it opens the subscriptions, says "ready", and
// records each frame's lag until stdin says "stop" (or closes).
func feedClient() error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	if !in.Scan() {
		return errors.New("no config")
	}
	var cfg clientConfig
	if err := json.Unmarshal(in.Bytes(), &cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	res := clientResult{}
	var seen atomic.Int64
	record := func(sent time.Time) {
		n := seen.Add(1)
		lag := float64(time.Since(sent).Microseconds()) / 1000
		mu.Lock()
		res.Received++
		if len(res.Lags) < 200000 || n%7 == 0 {
			res.Lags = append(res.Lags, lag)
		}
		mu.Unlock()
	}
	var ready sync.WaitGroup
	var firstErr atomic.Value
	fail := func(err error) { firstErr.CompareAndSwap(nil, err.Error()) }
	switch cfg.Mode {
	case "ws":
		for i, u := range cfg.Users {
			ready.Add(1)
			go func() {
				if err := wsSubscriber(ctx, cfg.URL, u, strconv.Itoa(i), &ready, record); err != nil && ctx.Err() == nil {
					fail(err)
				}
			}()
		}
	case "redis":
		opt, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return err
		}
		for i := range cfg.N {
			ready.Add(1)
			go func() {
				c := redis.NewClient(opt)
				defer func() { _ = c.Close() }()
				ch := cfg.Channel
				if cfg.PerSub {
					ch = fmt.Sprintf("%s:%d", cfg.Channel, i)
				}
				ps := c.Subscribe(ctx, ch)
				if _, err := ps.Receive(ctx); err != nil {
					fail(err)
					ready.Done()
					return
				}
				ready.Done()
				for {
					m, err := ps.ReceiveMessage(ctx)
					if err != nil {
						return
					}
					ns, _ := strconv.ParseInt(m.Payload, 10, 64)
					record(time.Unix(0, ns))
				}
			}()
		}
	}
	ready.Wait()
	fmt.Println("ready")
	for in.Scan() && in.Text() != "stop" {
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	if e, ok := firstErr.Load().(string); ok {
		res.Err = e
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	return nil
}

// wsSubscriber is one graphql-transport-ws socket with one feed subscription.
func wsSubscriber(ctx context.Context, url, userID, id string, ready *sync.WaitGroup, record func(time.Time)) error {
	once := sync.OnceFunc(ready.Done)
	defer once()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return err
	}
	defer func() { _ = c.CloseNow() }()
	c.SetReadLimit(1 << 20)
	write := func(v any) error {
		b, _ := json.Marshal(v)
		return c.Write(ctx, websocket.MessageText, b)
	}
	if err := write(map[string]any{"type": "connection_init", "payload": map[string]any{"debugUser": userID}}); err != nil {
		return err
	}
	subscribed := false
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return err
		}
		// Data frames are read without a JSON decoder: the harness must
		// not be what limits the rate (the Redis baseline's client only
		// parses an integer).
		if bytes.Contains(b, []byte(`"type":"next"`)) {
			at, ok := createdAt(b)
			if !ok {
				return fmt.Errorf("a frame without createdAt: %.200s", b)
			}
			record(at)
			continue
		}
		var m struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		switch m.Type {
		case "connection_ack":
			if err := write(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": feedSubscription}}); err != nil {
				return err
			}
			subscribed = true
			// The server registers the subscription right after reading it;
			// a ping round trip confirms it has.
			if err := write(map[string]any{"type": "ping"}); err != nil {
				return err
			}
		case "pong":
			if subscribed {
				once()
			}
		case "ping":
			if err := write(map[string]any{"type": "pong"}); err != nil {
				return err
			}
		case "error", "complete", "connection_error":
			return fmt.Errorf("subscription ended: %s", b)
		}
	}
}

// createdAt finds the feed item's createdAt in a data frame.
func createdAt(frame []byte) (time.Time, bool) {
	key := []byte(`"createdAt":"`)
	i := bytes.Index(frame, key)
	if i < 0 {
		return time.Time{}, false
	}
	rest := frame[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

// child is a running feed client process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

func startClients(ctx context.Context, cfg clientConfig) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-feed-client") //nolint:gosec // this very program, as the feed rows' client

	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	c.out.Buffer(make([]byte, 1<<20), 256<<20)
	b, _ := json.Marshal(cfg)
	if _, err := fmt.Fprintf(stdin, "%s\n", b); err != nil {
		return nil, err
	}
	if !c.out.Scan() || c.out.Text() != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("feed clients did not start: %q", c.out.Text())
	}
	return c, nil
}

func (c *child) stop() (clientResult, error) {
	_, _ = io.WriteString(c.stdin, "stop\n")
	_ = c.stdin.Close()
	var r clientResult
	if !c.out.Scan() {
		_ = c.cmd.Wait()
		return r, errors.New("feed clients: no result")
	}
	if err := json.Unmarshal(c.out.Bytes(), &r); err != nil {
		return r, err
	}
	_ = c.cmd.Wait()
	if r.Err != "" {
		return r, errors.New("feed clients: " + r.Err)
	}
	return r, nil
}

// feedRun is one measured run.
type feedRun struct {
	p50, p99, rate, writeP50 float64
	cpuPerFrameUs            float64 // this process's CPU (server and writers; the clients are the child's) per frame delivered
	delivered                float64 // share of the expected frames received
}

// paced calls write rate times a second for d, paced by vegeta's constant
// pacer (open loop: each call in its own goroutine; the calls are in-process
// transactions, not HTTP requests, so vegeta's attacker does not apply) and returns the number of calls, the achieved rate and the
// median call time.
func paced(rate int, d time.Duration, write func(i int) error) (int, float64, float64, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var durs []float64
	var firstErr error
	start := time.Now()
	n := int(float64(rate) * d.Seconds())
	pacer := vegeta.ConstantPacer{Freq: rate, Per: time.Second}
	for i := range n {
		if wait, _ := pacer.Pace(time.Since(start), uint64(i)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			err := write(i)
			mu.Lock()
			defer mu.Unlock()
			durs = append(durs, float64(time.Since(t0).Microseconds())/1000)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	return n, float64(n) / el.Seconds(), median(durs), firstErr
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// runVG writes rate events/s spread over users for d while the child's
// sockets (one per entry of subs) listen.
func runVG(ctx context.Context, e *env, wsURL string, users, subs []string, rate int, d time.Duration) (feedRun, error) {
	c, err := startClients(ctx, clientConfig{Mode: "ws", URL: wsURL, Users: subs})
	if err != nil {
		return feedRun{}, err
	}
	time.Sleep(200 * time.Millisecond)
	cpu0 := cpuNow()
	client := e.app.Store.Client
	sent, achieved, writeP50, werr := paced(rate, d, func(i int) error {
		u := users[i%len(users)]
		uctx := viewer.NewContext(ctx, viewer.Viewer{UserID: u, Role: viewer.RoleUser})
		tx, err := client.Tx(uctx)
		if err != nil {
			return err
		}
		if _, err := e.app.Recorder.Feed(uctx, tx, u, feedevent.KindINSIGHT_UPDATED, "ins_bench",
			map[string]any{"status": "ACKNOWLEDGED", "metric": "hrv_rmssd", "n": i}); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	time.Sleep(time.Second) // the tail arrives
	cpu := cpuNow() - cpu0
	res, err := c.stop()
	if werr != nil {
		return feedRun{}, werr
	}
	if err != nil {
		return feedRun{}, err
	}
	perSub := float64(len(subs)) / float64(len(users)) // subscribers of each user
	return feedRun{
		p50: quantile(res.Lags, 0.5), p99: quantile(res.Lags, 0.99), writeP50: writeP50,
		rate: achieved, delivered: float64(res.Received) / (float64(sent) * perSub),
		cpuPerFrameUs: float64(cpu.Microseconds()) / float64(max(res.Received, 1)),
	}, nil
}

// runRedis publishes rate messages/s for d: on one channel with subs
// subscribers, or (perSub) spread over subs channels of one subscriber each.
func runRedis(ctx context.Context, e *env, subs int, perSub bool, rate int, d time.Duration) (feedRun, error) {
	channel := fmt.Sprintf("vgbench:baseline:%d", time.Now().UnixNano())
	c, err := startClients(ctx, clientConfig{Mode: "redis", URL: e.o.redisURL, Channel: channel, N: subs, PerSub: perSub})
	if err != nil {
		return feedRun{}, err
	}
	opt, err := redis.ParseURL(e.o.redisURL)
	if err != nil {
		return feedRun{}, err
	}
	pub := redis.NewClient(opt)
	defer func() { _ = pub.Close() }()
	sent, achieved, writeP50, werr := paced(rate, d, func(i int) error {
		ch := channel
		if perSub {
			ch = fmt.Sprintf("%s:%d", channel, i%subs)
		}
		return pub.Publish(ctx, ch, strconv.FormatInt(time.Now().UnixNano(), 10)).Err()
	})
	time.Sleep(time.Second)
	res, err := c.stop()
	if werr != nil {
		return feedRun{}, werr
	}
	if err != nil {
		return feedRun{}, err
	}
	each := float64(subs)
	if perSub {
		each = 1
	}
	return feedRun{
		p50: quantile(res.Lags, 0.5), p99: quantile(res.Lags, 0.99), writeP50: writeP50,
		rate: achieved, delivered: float64(res.Received) / (float64(sent) * each),
	}, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path) //nolint:gosec // the -memprofile path the operator chose
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return pprof.WriteHeapProfile(f)
}

// memStat is the Go heap in use, the goroutine stacks, and the RSS.
func memStat() (heap, stacks, rss int64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			rss = kb * 1024
		}
	}
	return int64(m.HeapInuse), int64(m.StackInuse), rss
}

func feedRows(ctx context.Context, e *env, t *table) error {
	n := 1000
	d := 4 * time.Second
	if e.o.smoke {
		n, d = 50, e.o.dur
	}
	wsURL := "ws" + strings.TrimPrefix(e.vgURL, "http")
	one := slices.Repeat([]string{e.userID}, n)
	// (c) idle subscription memory, in this (the server's) process.
	pickRow := func(name string) bool {
		return e.o.feedRows == "" || slices.Contains(strings.Split(e.o.feedRows, ","), name)
	}
	if err := func() error {
		if !pickRow("idle") {
			return nil
		}
		return idleRow(ctx, e, t, wsURL, one)
	}(); err != nil {
		return err
	}
	var many []string
	if pickRow("many200") {
		sctx := viewer.System(ctx)
		many = make([]string, n)
		stamp := time.Now().UnixNano()
		for i := range many {
			id, err := server.EnsureUser(sctx, e.app.Store.Client, fmt.Sprintf("feed-%d-%d@example.com", stamp, i), "feed bench", user.RoleUSER)
			if err != nil {
				return err
			}
			many[i] = id
		}
	}
	type cell struct{ vg, bare []feedRun }
	rows := []struct {
		key   string
		name  string
		users []string
		rate  int
	}{
		{"one20", fmt.Sprintf("feed, %d subscribers of one user, 20 events/s", n), []string{e.userID}, 20},
		{"one200", fmt.Sprintf("feed, %d subscribers of one user, 200 events/s", n), []string{e.userID}, 200},
		{"many200", fmt.Sprintf("feed, %d users with one subscriber each, 200 events/s in total", n), many, 200},
	}
	for _, r := range rows {
		if !pickRow(r.key) {
			continue
		}
		var cl cell

		subs := one
		if len(r.users) > 1 {
			subs = r.users
		}
		for round := range e.o.rounds {
			pair := []func() error{
				func() error {
					x, err := runVG(ctx, e, wsURL, r.users, subs, r.rate, d)
					cl.vg = append(cl.vg, x)
					return err
				},
				func() error {
					x, err := runRedis(ctx, e, n, len(r.users) > 1, r.rate, d)
					cl.bare = append(cl.bare, x)
					return err
				},
			}
			if round%2 == 1 {
				slices.Reverse(pair)
			}
			for _, f := range pair {
				if err := f(); err != nil {
					return fmt.Errorf("%s: %w", r.name, err)
				}
			}
		}
		pick := func(rs []feedRun, f func(feedRun) float64) float64 {
			xs := make([]float64, len(rs))
			for i, x := range rs {
				xs[i] = f(x)
			}
			return median(xs)
		}
		vp50, vp99 := pick(cl.vg, func(x feedRun) float64 { return x.p50 }), pick(cl.vg, func(x feedRun) float64 { return x.p99 })
		bp50, bp99 := pick(cl.bare, func(x feedRun) float64 { return x.p50 }), pick(cl.bare, func(x feedRun) float64 { return x.p99 })
		bareShape := fmt.Sprintf("one channel, %d subscribers", n)
		if len(r.users) > 1 {
			bareShape = fmt.Sprintf("%d channels of one subscriber", n)
		}
		goal := "≤ 2× bare p99; keeps up, p99 < 50 ms"
		if r.rate == 20 {
			goal = "≤ 2× bare p99"
		}
		t.add(r.name,
			fmt.Sprintf("commit→frame p50 %.1f ms, p99 %.1f ms; %.0f events/s written, %.0f%% of frames delivered; write p50 %.1f ms; %.0f µs CPU per frame",
				vp50, vp99, pick(cl.vg, func(x feedRun) float64 { return x.rate }), 100*pick(cl.vg, func(x feedRun) float64 { return x.delivered }),
				pick(cl.vg, func(x feedRun) float64 { return x.writeP50 }), pick(cl.vg, func(x feedRun) float64 { return x.cpuPerFrameUs })),
			fmt.Sprintf("Redis PUBLISH→SUBSCRIBE (%s): p50 %.1f ms, p99 %.1f ms; %.0f msgs/s, %.0f%% delivered", bareShape, bp50, bp99,
				pick(cl.bare, func(x feedRun) float64 { return x.rate }), 100*pick(cl.bare, func(x feedRun) float64 { return x.delivered })),
			fmt.Sprintf("%.1f× p99", vp99/bp99), goal)
	}
	return nil
}

// idleRow measures the server's memory per idle subscribed socket.
func idleRow(ctx context.Context, e *env, t *table, wsURL string, one []string) error {
	n := len(one)
	kib := func(b int64) float64 { return float64(b) / 1024 / float64(n) }
	h0, s0, r0 := memStat()
	n0 := runtime.NumGoroutine()
	c, err := startClients(ctx, clientConfig{Mode: "ws", URL: wsURL, Users: one})
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	h1, s1, r1 := memStat()
	n1 := runtime.NumGoroutine()
	if e.o.memprof != "" {
		if err := writeHeapProfile(e.o.memprof); err != nil {
			return err
		}
	}
	if _, err := c.stop(); err != nil {
		return err
	}
	t.add(fmt.Sprintf("idle subscribed websocket (%d sockets, one subscription each)", n),
		fmt.Sprintf("%.1f KiB heap+stacks each (heap %.1f, stacks %.1f in %.1f goroutines); RSS +%.1f KiB each",
			kib(h1+s1-h0-s0), kib(h1-h0), kib(s1-s0), float64(n1-n0)/float64(n), kib(r1-r0)),
		"—", "—", "≤ 20 KiB")

	return nil
}
