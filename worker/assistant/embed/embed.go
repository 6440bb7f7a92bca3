// Package embed computes the vectors the assistant's retrieval compares: products and FAQs on
// the server when the catalog changes (shipped to devices with the sync), questions on the
// device.
//
// A vector is a sparse random projection of the text's features into Dims dimensions: each
// word's stem, its character trigrams (a light pull between spellings that share most letters;
// typos are the lexical index's job), the pairs of adjacent words, and the retail concepts the
// word belongs to (package lang's concept lexicon:
// "headache" and "ibuprofen" share the concept of pain relief, "measure" and "tape measure" that
// of measuring). Texts that share concepts but no words therefore still point the same way,
// which is what lexical search alone cannot see. Computing one costs microseconds and needs no
// model file.
//
// Vectors are L2-normalised and quantised to int8; Cosine compares two of them. Model names the
// function: vectors of different models are not comparable, and a device that receives vectors
// of another model computes its own.
package embed

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"aisle/sync/catalog"
	"aisle/worker/assistant/lang"
)

// Model identifies this embedding function: its version and a digest of the knowledge it uses
// (the concept lexicon and the feature weights), so that a change to either is a new model and
// the server refreshes every stored vector.
var Model = fmt.Sprintf("aisle-concepts-1-%08x", uint32(fnv64(lang.ConceptDigest()+fmt.Sprint(wStem, wTrigram, wBigram, wConcept, Dims))))

// Dims is the length of every vector.
const Dims = 256

// Vector is an L2-normalised vector scaled so that its largest component is ±127.
type Vector []int8

// Field is a piece of text with its weight in a document's vector.
type Field struct {
	Text   string
	Weight float32
}

// Text embeds a question or any short text (every field weight 1). Function words are skipped.
func Text(text string) Vector { return Document(Field{Text: text, Weight: 1}) }

// Product embeds a product from its name, category, brand and description.
func Product(p catalog.Product) Vector {
	return Document(
		Field{p.Name, 1},
		Field{p.Category, 0.7},
		Field{p.Brand, 0.4},
		Field{p.Description, 0.3},
	)
}

// FAQ embeds an FAQ from its question, tags and answer.
func FAQ(f catalog.FAQ) Vector {
	return Document(
		Field{f.Question, 1},
		Field{strings.Join(f.Tags, " "), 1},
		Field{f.Answer, 0.3},
	)
}

// Feature weights within a word.
const (
	wStem    = 1.0
	wTrigram = 0.35 // shared by all of a word's trigrams
	wBigram  = 0.5
	wConcept = 0.9 // shared by all of a word's concepts
)

// Document embeds weighted fields. A field's words share its weight (a long description does
// not outweigh a name).
func Document(fields ...Field) Vector {
	var acc [Dims]float32
	for _, f := range fields {
		if f.Weight == 0 || f.Text == "" {
			continue
		}
		ws := lang.Words(f.Text)
		var kept []lang.Word
		for _, w := range ws {
			if !lang.IsFunctionWord(w.Norm) {
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			continue
		}
		per := f.Weight / float32(math.Sqrt(float64(len(kept))))
		for i, w := range kept {
			add(&acc, feature("w:", w.Stem, "", ""), per*wStem)
			if !w.Num && len(w.Norm) >= 3 {
				// the trigrams of "^word$"
				n := len(w.Norm) + 2 - 2
				tw := per * wTrigram / float32(math.Sqrt(float64(n)))
				for k := 0; k < n; k++ {
					add(&acc, trigram(w.Norm, k), tw)
				}
			}
			if cs := lang.Concepts(w.Stem); len(cs) > 0 {
				cw := per * wConcept / float32(math.Sqrt(float64(len(cs))))
				for _, c := range cs {
					add(&acc, conceptFeature(c), cw)
				}
			}
			if i > 0 {
				prev := kept[i-1].Stem
				add(&acc, feature("b:", prev, " ", w.Stem), per*wBigram)
				if cs := lang.Concepts(prev + " " + w.Stem); len(cs) > 0 {
					for _, c := range cs {
						add(&acc, conceptFeature(c), per*wConcept)
					}
				}
			}
		}
	}
	return quantise(acc[:])
}

// FNV-1a, fed piece by piece so that features hash without building their strings.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix spreads the hash so that its four 16-bit lanes are independent.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// feature is the hash of the feature a+b+c+d.
func feature(a, b, c, d string) uint64 {
	return mix(fnvAdd(fnvAdd(fnvAdd(fnvAdd(fnvOffset, a), b), c), d))
}

// trigram is the hash of "t:" and the k-th trigram of "^"+w+"$".
func trigram(w string, k int) uint64 {
	h := fnvAdd(fnvOffset, "t:")
	for j := k; j < k+3; j++ {
		var c byte
		switch {
		case j == 0:
			c = '^'
		case j == len(w)+1:
			c = '$'
		default:
			c = w[j-1]
		}
		h ^= uint64(c)
		h *= fnvPrime
	}
	return mix(h)
}

var conceptHashes sync.Map // uint16 -> uint64

// conceptFeature is the hash of "c:<id>".
func conceptFeature(id uint16) uint64 {
	if h, ok := conceptHashes.Load(id); ok {
		return h.(uint64)
	}
	h := feature("c:", strconv.Itoa(int(id)), "", "")
	conceptHashes.Store(id, h)
	return h
}

// add projects one feature: it lands on 4 dimensions with signs, both from its hash.
func add(acc *[Dims]float32, h uint64, w float32) {
	for k := 0; k < 4; k++ {
		bits := uint32(h >> (16 * k))
		idx := bits & (Dims - 1)
		if bits&0x8000 != 0 {
			acc[idx] -= w
		} else {
			acc[idx] += w
		}
	}
}

func fnv64(s string) uint64 { return mix(fnvAdd(fnvOffset, s)) }

func quantise(acc []float32) Vector {
	var norm, peak float64
	for _, x := range acc {
		norm += float64(x) * float64(x)
		peak = max(peak, math.Abs(float64(x)))
	}
	v := make(Vector, Dims)
	if norm == 0 {
		return v
	}
	scale := float32(127 / peak)
	for i, x := range acc {
		y := x * scale
		if y < 0 {
			v[i] = int8(y - 0.5)
		} else {
			v[i] = int8(y + 0.5)
		}
	}
	return v
}

// Cosine is the cosine similarity of a and b, in [-1, 1]; 0 when either is zero or their
// lengths differ.
func Cosine(a, b Vector) float32 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb int32
	for i := range a {
		x, y := int32(a[i]), int32(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(float64(dot) / math.Sqrt(float64(na)*float64(nb)))
}

// Norm2 is the squared length of v (what Cosine divides by); precompute it for many comparisons.
func (v Vector) Norm2() int32 {
	var n int32
	for _, x := range v {
		n += int32(x) * int32(x)
	}
	return n
}

// Dot is the integer dot product of a and b (same length).
func Dot(a, b Vector) int32 {
	b = b[:len(a)]
	var d0, d1, d2, d3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 += int32(a[i]) * int32(b[i])
		d1 += int32(a[i+1]) * int32(b[i+1])
		d2 += int32(a[i+2]) * int32(b[i+2])
		d3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		d0 += int32(a[i]) * int32(b[i])
	}
	return d0 + d1 + d2 + d3
}

// String encodes v as base64 (standard alphabet, padded): Dims bytes, two's complement.
func (v Vector) String() string {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Parse decodes a vector written by String and checks its length.
func Parse(s string) (Vector, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("embed: vector is not base64: %w", err)
	}
	if len(b) != Dims {
		return nil, errors.New("embed: vector has the wrong length")
	}
	v := make(Vector, Dims)
	for i, x := range b {
		v[i] = int8(x)
	}
	return v, nil
}

// Encode returns v as the catalog carries it.
func Encode(v Vector) catalog.Vector { return catalog.Vector{Model: Model, V: v.String()} }

// Decode returns the vector of cv when this package's Model computed it; ok is false for another
// model or a damaged vector (the caller then computes its own).
func Decode(cv catalog.Vector) (v Vector, ok bool) {
	if cv.Model != Model {
		return nil, false
	}
	v, err := Parse(cv.V)
	return v, err == nil
}

// FromFloats normalises and quantises a vector of Dims components (a sum of other vectors, say).
func FromFloats(x []float32) Vector { return quantise(x) }
