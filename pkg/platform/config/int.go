package config

import "strconv"

// PositiveInt returns the value of v parsed as a whole number of at least 1.
func (r *Reader) PositiveInt(v Var) int {
	value, source := r.lookup(v)
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		r.fail(source, value, "must be a whole number of at least 1")
	}
	return n
}
