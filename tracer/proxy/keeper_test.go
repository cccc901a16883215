package proxy

import (
	"bytes"
	"testing"
)

// A body of unknown length is kept to the limit by doubling, never past
// the limit, and counted whole.
func TestKeeperGrowsByDoublingToTheLimit(t *testing.T) {
	const limit = 4 << 20
	k := newKeeper(limit, false, -1)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<10) // 16 KiB
	growths, last := 0, cap(k.data)
	for range 1280 { // 20 MiB
		k.Write(chunk)
		if c := cap(k.data); c != last {
			growths, last = growths+1, c
		}
	}
	got := k.get()
	if len(got.data) != limit || got.total != 1280*int64(len(chunk)) || !got.cut() {
		t.Fatalf("kept %d of %d bytes (cut %v); want %d of %d", len(got.data), got.total, got.cut(), limit, 1280*len(chunk))
	}
	if cap(k.data) != limit {
		t.Errorf("kept part allocated %d bytes for a limit of %d", cap(k.data), limit)
	}
	// 16 KiB to 4 MiB by doubling is 9 allocations; a quarter at a time
	// would be dozens.
	if growths > 9 {
		t.Errorf("the kept part was allocated %d times on its way to %d bytes", growths, limit)
	}
}

// An announced length is allocated at once, up to the limit.
func TestKeeperAllocatesAnAnnouncedLength(t *testing.T) {
	for _, tc := range []struct {
		limit  int
		length int64
		want   int
	}{
		{1 << 20, 1000, 1000},
		{1 << 20, 50 << 20, 1 << 20},
		{-1, 50 << 20, 4 << 20}, // kept whole: at most 4 MiB ahead of the bytes
	} {
		k := newKeeper(tc.limit, true, tc.length)
		if cap(k.data) != tc.want {
			t.Errorf("limit %d, length %d: allocated %d, want %d", tc.limit, tc.length, cap(k.data), tc.want)
		}
		k.Write(bytes.Repeat([]byte{'x'}, 1000))
		if got := k.get(); len(got.data) != 1000 || got.total != 1000 {
			t.Errorf("limit %d: kept %d of %d", tc.limit, len(got.data), got.total)
		}
	}
}
