package smtprelay

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"
)

// limitListener bounds connections (in all and per client IP) and wraps each
// accepted conn so that every read has an idle deadline and the whole
// connection a session deadline: a slow client cannot hold a connection
// forever. The wrapping is below TLS, so STARTTLS still sees a *tls.Conn.
type limitListener struct {
	net.Listener
	max, perClient int
	idle, session  time.Duration
	log            *zap.Logger

	mu    sync.Mutex
	total int
	byIP  map[netip.Addr]int

	bufs sync.Pool // *[]byte of readAhead bytes
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := netip.Addr{}
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			ip = ap.Addr().Unmap()
		}
		l.mu.Lock()
		over := l.total >= l.max || l.byIP[ip] >= l.perClient
		if !over {
			l.total++
			l.byIP[ip]++
		}
		l.mu.Unlock()
		if over {
			l.log.Warn("smtp connection refused: too many connections", zap.String("client", ip.String()))
			go refuse(c)
			continue
		}
		now := time.Now()
		return &timedConn{Conn: c, l: l, ip: ip, idle: l.idle, end: now.Add(l.session)}, nil
	}
}

// refuse answers 421 and closes, without blocking Accept.
func refuse(c net.Conn) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("421 4.7.0 Too many connections, try again later\r\n"))
	c.Close()
}

func (l *limitListener) release(ip netip.Addr) {
	l.mu.Lock()
	l.total--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
	l.mu.Unlock()
}

// readAhead is the size of a timedConn's read buffer.
const readAhead = 64 << 10

// timedConn reads through a buffer of readAhead bytes, taken from the
// listener's pool only while it holds unread data: go-smtp reads in 4 KiB
// pieces, which would cost a system call (and a deadline update) per 4 KiB
// of a message. Reads come from one goroutine (go-smtp's connection loop).
type timedConn struct {
	net.Conn
	l    *limitListener
	ip   netip.Addr
	idle time.Duration
	end  time.Time
	once sync.Once

	buf  *[]byte // read ahead, nil when drained
	r, w int     // unread data is (*buf)[r:w]
	rerr error   // the error that came with the buffered data
}

func (c *timedConn) Read(p []byte) (int, error) {
	if c.buf != nil {
		n := copy(p, (*c.buf)[c.r:c.w])
		c.r += n
		if c.r == c.w {
			c.drained()
		}
		return n, nil
	}
	if c.rerr != nil {
		err := c.rerr
		c.rerr = nil
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	d := time.Now().Add(c.idle)
	if d.After(c.end) {
		d = c.end
	}
	c.Conn.SetReadDeadline(d)
	if len(p) >= readAhead {
		return c.Conn.Read(p)
	}
	b, _ := c.l.bufs.Get().(*[]byte)
	if b == nil {
		nb := make([]byte, readAhead)
		b = &nb
	}
	n, err := c.Conn.Read(*b)
	k := copy(p, (*b)[:n])
	if k == n {
		c.l.bufs.Put(b)
		return k, err
	}
	c.buf, c.r, c.w, c.rerr = b, k, n, err
	return k, nil
}

// drained gives the read buffer back to the pool.
func (c *timedConn) drained() {
	c.l.bufs.Put(c.buf)
	c.buf = nil
}

func (c *timedConn) Close() error {
	c.once.Do(func() { c.l.release(c.ip) })
	return c.Conn.Close()
}
