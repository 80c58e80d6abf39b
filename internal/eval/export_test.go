package eval

// CompileEffectiveClassifier compiles the list with a Classifier whatever
// its length, so that tests cover both ways Decide answers.
func CompileEffectiveClassifier(in EffectiveInput) (*Effective, error) {
	return compileEffective(in, true)
}

// UsesClassifier reports whether Decide goes through a Classifier.
func (e *Effective) UsesClassifier() bool { return e.c != nil }
