package router

import "testing"

func TestBoundsForThePartitionsOwned(t *testing.T) {
	cfg := Config{MaxInFlight: 4096, MaxInFlightBytes: 4 << 20, ReadAhead: 4096, ReadAheadBytes: 4 << 20, PartitionsAtFullBounds: 3}
	for _, tc := range []struct {
		partitions int
		want       claimBounds
	}{
		{0, claimBounds{4096, 4 << 20, 4096, 4 << 20}},
		{3, claimBounds{4096, 4 << 20, 4096, 4 << 20}},
		{6, claimBounds{2048, 2 << 20, 2048, 2 << 20}},
		{12, claimBounds{1024, 1 << 20, 1024, 1 << 20}},
		{100_000, claimBounds{1, 125, 1, 125}},
		{100_000_000, claimBounds{1, 1, 1, 1}}, // never none: the partition would jam
	} {
		if got := cfg.boundsFor(tc.partitions); got != tc.want {
			t.Errorf("%d partitions: %+v, want %+v", tc.partitions, got, tc.want)
		}
	}
}
