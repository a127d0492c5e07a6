package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
)

// coderWebsocket is gqlgen's coder/websocket adapter
// (transport.CoderWebsocketImplementation) with one difference: a
// json.RawMessage is written as it is, so a data frame that is already
// encoded (shutdownAwareConn.WriteJSON) is not encoded again.
type coderWebsocket struct {
	AcceptOptions coderws.AcceptOptions
}

func (u coderWebsocket) Accept(w http.ResponseWriter, r *http.Request, options transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	for key, values := range options.ResponseHeader {
		for _, value := range values {
			w.Header().Add(key, value)
		}
	}
	acceptOptions := u.AcceptOptions
	acceptOptions.Subprotocols = slices.Clone(acceptOptions.Subprotocols)
	for _, p := range options.Subprotocols {
		if !slices.Contains(acceptOptions.Subprotocols, p) {
			acceptOptions.Subprotocols = append(acceptOptions.Subprotocols, p)
		}
	}
	conn, err := coderws.Accept(smallBuffers{ResponseWriter: w}, r, &acceptOptions)
	if err != nil {
		return nil, err
	}
	return &coderConn{conn: conn}, nil
}

// wsWriteBuffer is the initial size of the pooled buffers (wsBuffers)
// messages are written from: feed frames are a few hundred bytes.
const wsWriteBuffer = 2048

// smallBuffers is a ResponseWriter whose Hijack returns the connection with
// a small read buffer (smallReader) and no write buffer of its own: a
// 16-byte bufio.Writer over a frameWriter, which gathers each frame in a
// pooled buffer. net/http's Hijack allocates a fresh 4 KiB writer and keeps
// its 4 KiB reader; an idle socket now holds neither.
type smallBuffers struct {
	http.ResponseWriter
	fw **frameWriter // if non-nil, set to the connection's frameWriter
}

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	fw := &frameWriter{conn: conn}
	if w.fw != nil {
		*w.fw = fw
	}
	return conn, bufio.NewReadWriter(smallReader(brw.Reader, conn), bufio.NewWriterSize(fw, 16)), nil
}

// frameWriter is what coder/websocket's write buffer writes to: it gathers
// the bytes of a frame in a buffer from wsBuffers and writes the frame to
// the connection in one write once it is complete (RFC 6455 §5.2: the
// frame header says its length), then gives the buffer back, so a socket
// holds no write buffer between frames. Bytes are written in order
// whatever the parse says; it only decides when to write: at the end of a
// frame, or once maxGather bytes are waiting.
type frameWriter struct {
	mu   sync.Mutex
	conn io.Writer
	buf  *[]byte // nil between frames
	// end is where the frame being gathered ends, as an offset in *buf: at
	// most len(*buf) while frames are parsed, beyond it inside a payload.
	end     int
	hold    bool // gather whole frames until Flush (a batch of messages)
	control bool // a control frame (close, ping, pong) is gathered: not held
}

const maxGather = 64 << 10

func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf == nil {
		w.buf = wsBuffers.Get().(*[]byte)
		*w.buf = (*w.buf)[:0]
	}
	b := append(*w.buf, p...)
	*w.buf = b
	for w.end < len(b) {
		n, ok := frameLen(b[w.end:])
		if !ok {
			return len(p), nil // a header in two writes: wait for the rest
		}
		w.control = w.control || b[w.end]&0x08 != 0
		w.end += n
	}
	if len(b) < maxGather && (w.end > len(b) || (w.hold && !w.control)) {
		return len(p), nil // inside a payload, or holding a batch
	}
	if err := w.writeLocked(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeLocked writes what is gathered and gives the buffer back.
func (w *frameWriter) writeLocked() error {
	b := *w.buf
	_, err := w.conn.Write(b)
	w.end -= len(b) // what is still to come of a large frame
	if cap(b) <= maxGather {
		wsBuffers.Put(w.buf)
	}
	w.buf, w.control = nil, false
	return err
}

// Hold gathers the frames written from now on until Flush, so that a batch
// of messages goes out in one write.
func (w *frameWriter) Hold() {
	w.mu.Lock()
	w.hold = true
	w.mu.Unlock()
}

// Flush ends Hold: the whole frames gathered are written.
func (w *frameWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hold = false
	if w.buf == nil || w.end != len(*w.buf) {
		return nil // nothing, or a frame another writer is in the middle of
	}
	return w.writeLocked()
}

// frameLen is the length of the frame b starts with (header and payload);
// ok is false while its header is incomplete.
func frameLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	h, n := 2, uint64(b[1]&0x7f)
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, false
		}
		h, n = 4, uint64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		if len(b) < 10 {
			return 0, false
		}
		h, n = 10, binary.BigEndian.Uint64(b[2:10])
	}
	if b[1]&0x80 != 0 {
		h += 4 // masking key (client frames)
	}
	return h + int(n), true
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type coderConn struct {
	conn *coderws.Conn

	mu                sync.Mutex
	readDeadlineTimer *time.Timer
	closeHandshakeCh  chan struct{}
}

func (c *coderConn) Close() error {
	c.clearReadDeadlineTimer()
	c.mu.Lock()
	handshake := c.closeHandshakeCh != nil
	c.mu.Unlock()
	if handshake {
		return nil // WriteClose's goroutine owns closing the connection
	}
	return c.conn.CloseNow()
}

func (c *coderConn) NextReader() (int, io.Reader, error) {
	typ, data, err := c.conn.Read(context.Background())
	if err != nil {
		switch coderws.CloseStatus(err) {
		case coderws.StatusNormalClosure, coderws.StatusNoStatusRcvd:
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		return int(typ), nil, err
	}
	return int(typ), bytes.NewReader(data), nil
}

func (c *coderConn) WriteJSON(v any) error {
	data, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return c.conn.Write(context.Background(), coderws.MessageText, data)
}

// WriteClose runs coder/websocket's close handshake (which may wait 5 s
// for the peer) in the background, as gqlgen's adapter does.
func (c *coderConn) WriteClose(code int, message string) error {
	c.clearReadDeadlineTimer()
	c.mu.Lock()
	if c.closeHandshakeCh != nil {
		c.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	c.closeHandshakeCh = done
	c.mu.Unlock()
	go func() {
		defer close(done)
		_ = c.conn.Close(coderws.StatusCode(code), message)
	}()
	return nil
}

func (c *coderConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *coderConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

func (c *coderConn) SetReadDeadline(deadline time.Time) error {
	closeNow := false
	c.mu.Lock()
	if c.readDeadlineTimer != nil {
		c.readDeadlineTimer.Stop()
		c.readDeadlineTimer = nil
	}
	if !deadline.IsZero() {
		if d := time.Until(deadline); d <= 0 {
			closeNow = true
		} else {
			c.readDeadlineTimer = time.AfterFunc(d, func() { _ = c.conn.CloseNow() })
		}
	}
	c.mu.Unlock()
	if closeNow {
		return c.conn.CloseNow()
	}
	return nil
}

func (c *coderConn) clearReadDeadlineTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readDeadlineTimer != nil {
		c.readDeadlineTimer.Stop()
		c.readDeadlineTimer = nil
	}
}

// dataFrame encodes a gqlgen data message ("next" or "data": ID, Type and
// an encoded Payload) into its wire form without re-encoding the payload;
// ok is false for anything else.
func dataFrame(v any, typ string) (json.RawMessage, bool) {
	rv := reflectStruct(v)
	if !rv.IsValid() {
		return nil, false
	}
	id, p := rv.FieldByName("ID"), rv.FieldByName("Payload")
	if !id.IsValid() || !p.IsValid() || !id.CanInterface() || !p.CanInterface() {
		return nil, false
	}
	payload, ok := p.Interface().(json.RawMessage)
	if !ok || len(payload) == 0 {
		return nil, false
	}
	ids, ok := id.Interface().(string)
	if !ok {
		return nil, false
	}
	qid, err := json.Marshal(ids)
	if err != nil {
		return nil, false
	}
	b := make([]byte, 0, len(payload)+len(qid)+len(typ)+32)
	b = append(b, `{"payload":`...)
	b = append(b, payload...)
	if ids != "" {
		b = append(b, `,"id":`...)
		b = append(b, qid...)
	}
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	b = append(b, `"}`...)
	return b, true
}
