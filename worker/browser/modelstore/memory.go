package modelstore

import (
	"context"
	"crypto/sha256"
	"sync"

	"aisle/worker/browser/wire"
)

// Memory is a Cache held in memory, for tests and native tools. Limit > 0 makes Put fail with
// wire.CodeQuota once the stored bytes would exceed it.
type Memory struct {
	Limit int64

	mu   sync.Mutex
	m    map[string][]byte
	used int64
	gets int
}

// Gets is the number of Get calls so far.
func (c *Memory) Gets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets
}

var _ Cache = (*Memory)(nil)

func (c *Memory) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	b, ok := c.m[key]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), b...), nil
}

func (c *Memory) Put(_ context.Context, key string, data []byte, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	used := c.used - int64(len(c.m[key])) + int64(len(data))
	if c.Limit > 0 && used > c.Limit {
		return wire.Errorf(wire.CodeQuota, "storing %s needs %d bytes more than the %d allowed", key, used-c.Limit, c.Limit)
	}
	c.m[key] = append([]byte(nil), data...)
	c.used = used
	return nil
}

func (c *Memory) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used -= int64(len(c.m[key]))
	delete(c.m, key)
	return nil
}

func (c *Memory) Keys(context.Context) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.m))
	for k := range c.m {
		out = append(out, k)
	}
	return out, nil
}

// Used is the number of bytes stored.
func (c *Memory) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// SHA256 is a Hasher using crypto/sha256.
func SHA256(_ context.Context, data []byte) ([32]byte, error) { return sha256.Sum256(data), nil }
