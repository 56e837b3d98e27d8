package config

import (
	"strings"
	"testing"
)

func TestPositiveInt(t *testing.T) {
	v := Var{Name: "STREAMGATE_TEST_COUNT", Default: "7"}
	if n := NewReader().PositiveInt(v); n != 7 {
		t.Fatalf("default: %d, want 7", n)
	}
	for _, bad := range []string{"0", "-1", "ten", "1.5"} {
		t.Setenv(v.Name, bad)
		r := NewReader()
		r.PositiveInt(v)
		if err := r.Err(); err == nil || !strings.Contains(err.Error(), `STREAMGATE_TEST_COUNT="`+bad+`": must be a whole number of at least 1`) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	t.Setenv(v.Name, "2048")
	if n := NewReader().PositiveInt(v); n != 2048 {
		t.Fatalf("2048: %d", n)
	}
}
