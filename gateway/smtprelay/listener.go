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

type timedConn struct {
	net.Conn
	l    *limitListener
	ip   netip.Addr
	idle time.Duration
	end  time.Time
	once sync.Once
}

func (c *timedConn) Read(p []byte) (int, error) {
	d := time.Now().Add(c.idle)
	if d.After(c.end) {
		d = c.end
	}
	c.Conn.SetReadDeadline(d)
	return c.Conn.Read(p)
}

func (c *timedConn) Close() error {
	c.once.Do(func() { c.l.release(c.ip) })
	return c.Conn.Close()
}
