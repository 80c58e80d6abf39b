package eval

import "github.com/palisade-sg/palisade/internal/rules"

// CompileListClassifier compiles the list with a Classifier whatever its
// length, so that tests cover both ways Decide answers.
func CompileListClassifier(l rules.List) (*Effective, error) {
	return compileList(l, true)
}

// UsesClassifier reports whether Decide goes through a Classifier.
func (e *Effective) UsesClassifier() bool { return e.c != nil }

// CompileListFromReused is CompileListFrom, also returning how many of
// prev's compiled entries it reused.
func CompileListFromReused(prev *Effective, l rules.List) (*Effective, int, error) {
	return compileListFrom(prev, l)
}
