package httpproxy

import (
	"container/list"
	"crypto/tls"
	"sync"
)

// certCache keeps MITM leaf certificates per host (LRU), so that a leaf is
// signed once per host, not once per connection (goproxy.CertStorage).
type certCache struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type certEntry struct {
	host string
	cert *tls.Certificate
}

func newCertCache(max int) *certCache {
	return &certCache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

// Fetch returns the cached certificate for host, or makes one with gen.
func (c *certCache) Fetch(host string, gen func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	c.mu.Lock()
	if el, ok := c.items[host]; ok {
		c.order.MoveToFront(el)
		cert := el.Value.(*certEntry).cert
		c.mu.Unlock()
		return cert, nil
	}
	c.mu.Unlock()
	cert, err := gen()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[host]; ok {
		return el.Value.(*certEntry).cert, nil
	}
	c.items[host] = c.order.PushFront(&certEntry{host: host, cert: cert})
	for c.order.Len() > c.max {
		el := c.order.Back()
		c.order.Remove(el)
		delete(c.items, el.Value.(*certEntry).host)
	}
	return cert, nil
}
