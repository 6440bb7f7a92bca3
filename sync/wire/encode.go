package wire

import (
	"encoding/json"
	"slices"
	"strconv"
)

// AppendPageJSON appends the JSON of p to dst: the bytes json.Marshal(p)
// gives, when each change's Data is compact JSON with HTML characters
// escaped, as json.Marshal wrote it (the server's log holds only such
// data). It copies Data as it is, where json.Marshal would parse and
// compact every change again: a page of 500 changes is ~100 KB, and that
// parse was the largest cost of serving one.
func AppendPageJSON(dst []byte, p Page) []byte {
	n := 256
	for _, c := range p.Changes {
		n += len(c.Data) + len(c.ID) + 64
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, `{"protocol":`...)
	dst = strconv.AppendInt(dst, int64(p.Protocol), 10)
	dst = append(dst, `,"store":`...)
	dst = appendString(dst, p.Store)
	dst = append(dst, `,"audience":`...)
	dst = appendString(dst, string(p.Audience))
	dst = append(dst, `,"since":`...)
	dst = strconv.AppendInt(dst, p.Since, 10)
	dst = append(dst, `,"target":`...)
	dst = strconv.AppendInt(dst, p.Target, 10)
	dst = append(dst, `,"reset":`...)
	dst = strconv.AppendBool(dst, p.Reset)
	dst = append(dst, `,"after":`...)
	dst = strconv.AppendInt(dst, p.After, 10)
	if p.Changes == nil {
		dst = append(dst, `,"changes":null`...)
	} else {
		dst = append(dst, `,"changes":[`...)
		for i, c := range p.Changes {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"v":`...)
			dst = strconv.AppendInt(dst, c.Version, 10)
			dst = append(dst, `,"k":`...)
			dst = appendString(dst, string(c.Kind))
			dst = append(dst, `,"id":`...)
			dst = appendString(dst, c.ID)
			if c.Deleted {
				dst = append(dst, `,"del":true`...)
			}
			if len(c.Data) > 0 {
				dst = append(dst, `,"d":`...)
				dst = append(dst, c.Data...)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"next":`...)
	dst = strconv.AppendInt(dst, p.Next, 10)
	dst = append(dst, `,"done":`...)
	dst = strconv.AppendBool(dst, p.Done)
	return append(dst, '}')
}

// appendString appends s as a JSON string, as json.Marshal writes it.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&' {
			q, _ := json.Marshal(s) // escapes needed: json's own rules
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
