package proxy

import (
	"net"
	"sync"
)

// A client that hangs up while a watch streams to it is noticed only when
// the next event is written to it: goproxy reads a tunnel's next request
// after the response, never during it. So while a stream is relayed,
// kubewire reads ahead on the client's connection: an end of file there
// means the client is gone, and the stream's upstream request is ended
// then, not at the next event (which the recording would otherwise hold
// although the client never got it). Bytes read ahead are given to the
// tunnel's next read, in order; there is never more than one read of the
// connection at a time.

// aheadListener wraps the proxy's listener so that each connection can be
// watched for its client's end.
type aheadListener struct {
	net.Listener
	conns *sync.Map // remote address -> *aheadConn
}

func (l aheadListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	a := &aheadConn{Conn: c, conns: l.conns}
	l.conns.Store(c.RemoteAddr().String(), a)
	return a, nil
}

// aheadConn is a client connection that can be read ahead.
type aheadConn struct {
	net.Conn
	conns *sync.Map

	mu      sync.Mutex
	pending []byte
	err     error         // the read-ahead's error, given after pending
	reading chan struct{} // closed when the read-ahead under way ends
	onGone  func()        // called when the read-ahead meets the end
}

func (c *aheadConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if r := c.reading; r != nil {
		// The read-ahead holds the connection's one read: wait for it.
		c.mu.Unlock()
		<-r
		c.mu.Lock()
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		c.mu.Unlock()
		return n, nil
	}
	if err := c.err; err != nil {
		c.mu.Unlock()
		return 0, err
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// watch reads ahead until the client hangs up, calling gone then, or until
// stop is called; the read under way at stop goes on until the connection
// yields (as the tunnel's own next read would), and all bytes read are kept
// for the tunnel.
func (c *aheadConn) watch(gone func()) (stop func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onGone = gone
	if c.reading == nil && len(c.pending) == 0 && c.err == nil {
		done := make(chan struct{})
		c.reading = done
		go func() {
			var got []byte
			buf := make([]byte, 4096)
			var err error
			for {
				var n int
				n, err = c.Conn.Read(buf)
				got = append(got, buf[:n]...)
				// A client closing cleanly first sends a TLS close_notify
				// alert, so bytes alone do not mean it stays: read on while
				// the stream lasts, to meet the end that follows.
				c.mu.Lock()
				watching := c.onGone != nil
				c.mu.Unlock()
				if err != nil || !watching {
					break
				}
			}
			c.mu.Lock()
			c.pending, c.err = append(c.pending, got...), err
			c.reading = nil
			f := c.onGone
			c.mu.Unlock()
			close(done)
			if err != nil && f != nil {
				f()
			}
		}()
	}
	return func() {
		c.mu.Lock()
		c.onGone = nil
		c.mu.Unlock()
	}
}

// ended reports whether a read-ahead met the connection's end: the client
// is gone, whatever is still written to it.
func (c *aheadConn) ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil
}

func (c *aheadConn) Close() error {
	c.conns.Delete(c.Conn.RemoteAddr().String())
	return c.Conn.Close()
}

// clientConn is the connection of the client at remote, if it is still
// open.
func (p *Proxy) clientConn(remote string) *aheadConn {
	if c, ok := p.conns.Load(remote); ok {
		return c.(*aheadConn)
	}
	return nil
}
