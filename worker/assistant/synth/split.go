package synth

import "strings"

// Split says which part of the vocabulary a store may use.
//
// Every vocabulary entry that names something a store sells or is called (a product family
// such as "Mature Cheddar", a brand such as "Meadowgold", the first half of a store name such
// as "Greenleaf") belongs to exactly one of two parts, decided by [HeldOut] from the entry's
// own text alone: about a third is held out for evaluation. A [SplitEval] store draws only
// held-out entries and a [SplitTrain] store only the others, so no product family, brand or
// store name of an evaluation store ever appears in a training store, whatever the seeds, and
// the same name in two kinds' vocabularies always falls on the same side. Generic words
// (aliases such as "cheese", category names, needs, FAQ wording, suppliers) are shared: they
// are the language of the domain, not the items a model could memorise.
type Split int

const (
	// SplitAll uses the whole vocabulary (demos; never for training beside an evaluation).
	SplitAll Split = iota
	// SplitTrain uses only entries that are not held out.
	SplitTrain
	// SplitEval uses only held-out entries.
	SplitEval
)

func (s Split) String() string {
	switch s {
	case SplitTrain:
		return "train"
	case SplitEval:
		return "eval"
	}
	return "all"
}

// ParseSplit reads "all", "train" or "eval".
func ParseSplit(s string) (Split, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "all", "":
		return SplitAll, true
	case "train":
		return SplitTrain, true
	case "eval":
		return SplitEval, true
	}
	return SplitAll, false
}

// holdoutSalt versions the split: changing it would reshuffle every held-out entry, so it
// changes only together with a regenerated evaluation set.
const holdoutSalt = "aisle/synth holdout v1\x00"

// HeldOut reports whether a vocabulary entry (a product family's name, a brand, a store-name
// part) belongs to the evaluation part: one in three, by the FNV-1a hash of its normalised
// text (lower case, accents folded, words joined by single spaces).
func HeldOut(entry string) bool {
	return hash64(holdoutSalt+strings.Join(words(entry), " "))%3 == 0
}

// Allows reports whether a store of this split may use the entry.
func (s Split) Allows(entry string) bool {
	switch s {
	case SplitTrain:
		return !HeldOut(entry)
	case SplitEval:
		return HeldOut(entry)
	}
	return true
}
