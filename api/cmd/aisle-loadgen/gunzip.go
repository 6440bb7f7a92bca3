package main

import (
	"bytes"
	"compress/gzip"
	"io"
)

func gunzip(b []byte) io.Reader {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return bytes.NewReader(b) // not compressed (small bodies)
	}
	return zr
}
