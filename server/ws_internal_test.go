package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vitalgraph/vitalgraph/server/telemetry"
)

// recordWrites records each write a frameWriter makes.
type recordWrites struct{ writes [][]byte }

func (r *recordWrites) Write(p []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

// frame is a websocket frame with a payload of n bytes, its header in the
// 7-bit, 16-bit or 64-bit length form, masked or not.
func frame(n int, masked bool) []byte {
	b := []byte{0x81}
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 1<<16:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if masked {
		b = append(b, 1, 2, 3, 4)
	}
	for i := range n {
		b = append(b, byte(i))
	}
	return b
}

// TestFrameWriterWritesWholeFrames: whatever the pieces it is given in, a
// frameWriter passes every byte on in order, in one write per frame of up
// to maxGather bytes, and holds no buffer between frames.
func TestFrameWriterWritesWholeFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var frames [][]byte
		var all []byte
		for range 1 + rng.IntN(4) {
			n := []int{0, 1, 125, 126, 300, 65535, 65536, 200000}[rng.IntN(8)]
			f := frame(n, rng.IntN(2) == 0)
			frames = append(frames, f)
			all = append(all, f...)
		}
		rec := &recordWrites{}
		w := &frameWriter{conn: rec}
		for rest := all; len(rest) > 0; {
			k := min(len(rest), 1+rng.IntN(400))
			if rng.IntN(4) == 0 {
				k = len(rest)
			}
			n, err := w.Write(rest[:k])
			require.NoError(t, err)
			require.Equal(t, k, n)
			rest = rest[k:]
		}
		require.Nil(t, w.buf, "round %d: no buffer held after the last frame", round)
		require.Equal(t, all, bytes.Join(rec.writes, nil), "round %d", round)
		// Each small frame is written whole, in one write.
		if len(frames) == 1 && len(frames[0]) <= maxGather {
			require.Len(t, rec.writes, 1, "round %d", round)
		}
	}
}

// TestGroupCutsOffOnlyTheSlowMember: a member whose socket's queue is full
// is cut off with an ELIMIT error, while the group's other members get
// every frame.
func TestGroupCutsOffOnlyTheSlowMember(t *testing.T) {
	a := &App{Log: slog.New(slog.DiscardHandler), Metrics: telemetry.New(), baseCtx: context.Background()}
	h := &wsHub{app: a, conns: map[*wsConn]struct{}{}, groups: map[wsGroupKey]*wsGroup{}, pingEvery: wsPingInterval, slow: 10 * time.Second}
	newConn := func() *wsConn {
		ctx, cancel := context.WithCancel(context.Background())
		// writing: as if a writer were busy, so the queue only grows
		return &wsConn{hub: h, ctx: ctx, cancel: cancel, writing: true, acked: true}
	}
	slow, fast := newConn(), newConn()
	g := &wsGroup{hub: h, shared: true, cancel: func() {}}
	var subs []*wsSub
	for _, c := range []*wsConn{slow, fast} {
		s := newWSSub(c, "s")
		s.g = g
		g.members = append(g.members, s)
		require.True(t, c.add(s))
		subs = append(subs, s)
	}
	slow.send(wsFrame{head: wsPing}) // a control message first: its age counts from now
	for i := range wsQueueFrames + 10 {
		if i%100 == 0 {
			fast.mu.Lock()
			fast.q = nil // fast drains its queue
			fast.mu.Unlock()
		}
		g.broadcast([]byte(`{"data":{}}`))
	}
	require.Equal(t, []*wsSub{subs[1]}, g.members, "only the slow member is cut off")
	slow.mu.Lock()
	defer slow.mu.Unlock()
	require.Empty(t, slow.subs)
	require.Len(t, slow.q, wsQueueFrames+1, "the ping and the frames queued before, then the error")
	last := slow.q[len(slow.q)-1]
	var m struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Payload []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"payload"`
	}
	require.NoError(t, json.Unmarshal(last.head, &m))
	require.Equal(t, "error", m.Type)
	require.Equal(t, "s", m.ID)
	require.Equal(t, "ELIMIT", m.Payload[0].Extensions["code"])
}

// TestFrameWriterHoldsABatchButNotAClose: under Hold, data frames wait for
// Flush and go out in one write; a control frame (a close from another
// goroutine) is written at once, with what is gathered before it.
func TestFrameWriterHoldsABatchButNotAClose(t *testing.T) {
	rec := &recordWrites{}
	w := &frameWriter{conn: rec}
	w.Hold()
	a, b := frame(300, false), frame(10, false)
	for _, f := range [][]byte{a, b} {
		_, err := w.Write(f[:3])
		require.NoError(t, err)
		_, err = w.Write(f[3:])
		require.NoError(t, err)
	}
	require.Empty(t, rec.writes, "held")
	require.NoError(t, w.Flush())
	require.Equal(t, [][]byte{append(bytes.Clone(a), b...)}, rec.writes)

	rec.writes = nil
	w.Hold()
	_, err := w.Write(a)
	require.NoError(t, err)
	closeFrame := []byte{0x88, 2, 0x03, 0xf4} // close, 1012
	_, err = w.Write(closeFrame[:3])
	require.NoError(t, err)
	_, err = w.Write(closeFrame[3:])
	require.NoError(t, err)
	require.Equal(t, [][]byte{append(bytes.Clone(a), closeFrame...)}, rec.writes, "the close is not held")
	require.NoError(t, w.Flush())
	require.Len(t, rec.writes, 1)
}
