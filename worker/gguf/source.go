package gguf

import (
	"fmt"
	"io"
	"sort"
)

// source is where a file's bytes live: one contiguous buffer (memory map or slice) or shards.
type source interface {
	size() uint64
	// readAt fills p from offset off; the range has been bounds-checked by the caller.
	readAt(p []byte, off uint64) error
	// slice returns n bytes at off, without copying when they are contiguous.
	slice(off, n uint64) ([]byte, error)
}

type bytesSource []byte

func (b bytesSource) size() uint64 { return uint64(len(b)) }

func (b bytesSource) readAt(p []byte, off uint64) error {
	if off+uint64(len(p)) > uint64(len(b)) || off+uint64(len(p)) < off {
		return fmt.Errorf("%w: read [%d, +%d) past end %d", ErrFormat, off, len(p), len(b))
	}
	copy(p, b[off:])
	return nil
}

func (b bytesSource) slice(off, n uint64) ([]byte, error) {
	if off+n > uint64(len(b)) || off+n < off {
		return nil, fmt.Errorf("%w: range [%d, +%d) past end %d", ErrFormat, off, n, len(b))
	}
	return b[off : off+n : off+n], nil
}

// shardSource is the concatenation of shards. starts[i] is the file offset of shards[i].
type shardSource struct {
	shards [][]byte
	starts []uint64
	total  uint64
}

func newShardSource(shards [][]byte) (*shardSource, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("%w: no shards", ErrFormat)
	}
	s := &shardSource{}
	for i, sh := range shards {
		if len(sh) == 0 {
			return nil, fmt.Errorf("%w: shard %d is empty", ErrFormat, i)
		}
		s.shards = append(s.shards, sh)
		s.starts = append(s.starts, s.total)
		s.total += uint64(len(sh))
	}
	return s, nil
}

func (s *shardSource) size() uint64 { return s.total }

// find returns the index of the shard holding offset off (off < total).
func (s *shardSource) find(off uint64) int {
	return sort.Search(len(s.starts), func(i int) bool { return s.starts[i] > off }) - 1
}

func (s *shardSource) readAt(p []byte, off uint64) error {
	if off+uint64(len(p)) > s.total || off+uint64(len(p)) < off {
		return fmt.Errorf("%w: read [%d, +%d) past end %d", ErrFormat, off, len(p), s.total)
	}
	for len(p) > 0 {
		i := s.find(off)
		n := copy(p, s.shards[i][off-s.starts[i]:])
		p = p[n:]
		off += uint64(n)
	}
	return nil
}

func (s *shardSource) slice(off, n uint64) ([]byte, error) {
	if off+n > s.total || off+n < off {
		return nil, fmt.Errorf("%w: range [%d, +%d) past end %d", ErrFormat, off, n, s.total)
	}
	if n == 0 {
		return []byte{}, nil
	}
	i := s.find(off)
	local := off - s.starts[i]
	if local+n <= uint64(len(s.shards[i])) {
		return s.shards[i][local : local+n : local+n], nil
	}
	out := make([]byte, n)
	return out, s.readAt(out, off)
}

// lazySource is a file held as shards that are opened only when read, the last one kept: for a
// reader that copies what it keeps, in file order, so that the whole file is never in memory at
// once and each shard is opened once. Every read copies out of the shard.
type lazySource struct {
	starts  []uint64 // file offset of each shard; starts[len] is the total
	load    func(i int) (io.ReaderAt, error)
	current int // the shard open, or -1
	shard   io.ReaderAt
	loads   int
}

func newLazySource(sizes []uint64, load func(i int) (io.ReaderAt, error)) (*lazySource, error) {
	if len(sizes) == 0 {
		return nil, fmt.Errorf("%w: no shards", ErrFormat)
	}
	s := &lazySource{load: load, starts: make([]uint64, 1, len(sizes)+1), current: -1}
	for i, n := range sizes {
		if n == 0 {
			return nil, fmt.Errorf("%w: shard %d is empty", ErrFormat, i)
		}
		s.starts = append(s.starts, s.starts[i]+n)
	}
	return s, nil
}

func (s *lazySource) size() uint64 { return s.starts[len(s.starts)-1] }

func (s *lazySource) find(off uint64) int {
	return sort.Search(len(s.starts)-1, func(i int) bool { return s.starts[i+1] > off })
}

// open returns shard i, opening it unless it is the one open.
func (s *lazySource) open(i int) (io.ReaderAt, error) {
	if s.current == i {
		return s.shard, nil
	}
	s.current, s.shard = -1, nil // let it go before the next one arrives
	r, err := s.load(i)
	if err != nil {
		return nil, err
	}
	s.loads++
	s.current, s.shard = i, r
	return r, nil
}

// release lets the open shard go.
func (s *lazySource) release() { s.current, s.shard = -1, nil }

func (s *lazySource) readAt(p []byte, off uint64) error {
	if off+uint64(len(p)) > s.size() || off+uint64(len(p)) < off {
		return fmt.Errorf("%w: read [%d, +%d) past end %d", ErrFormat, off, len(p), s.size())
	}
	for len(p) > 0 {
		i := s.find(off)
		r, err := s.open(i)
		if err != nil {
			return err
		}
		n := min(uint64(len(p)), s.starts[i+1]-off)
		if got, err := r.ReadAt(p[:n], int64(off-s.starts[i])); uint64(got) != n {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("%w: shard %d: %v", ErrFormat, i, err)
		}
		p = p[n:]
		off += n
	}
	return nil
}

func (s *lazySource) slice(off, n uint64) ([]byte, error) {
	if off+n > s.size() || off+n < off {
		return nil, fmt.Errorf("%w: range [%d, +%d) past end %d", ErrFormat, off, n, s.size())
	}
	out := make([]byte, n)
	return out, s.readAt(out, off)
}
