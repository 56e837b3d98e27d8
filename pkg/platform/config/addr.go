package config

// AddrOrOff returns the value of v as a listen address, or off itself when the value
// is off (which turns the listener off).
func (r *Reader) AddrOrOff(v Var, off string) string {
	if value, _ := r.lookup(v); value == off {
		return off
	}
	return r.Addr(v)
}
