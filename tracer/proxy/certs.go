package proxy

import (
	"crypto/tls"
	"sync"
)

// certStore caches the host certificates signed for the MITM; goproxy's
// signer would otherwise sign one per connection.
type certStore struct {
	mu    sync.Mutex
	certs map[string]*tls.Certificate
}

func (s *certStore) Fetch(host string, gen func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.certs[host]; ok {
		return c, nil
	}
	c, err := gen()
	if err != nil {
		return nil, err
	}
	if s.certs == nil {
		s.certs = map[string]*tls.Certificate{}
	}
	s.certs[host] = c
	return c, nil
}
