package record

import (
	"context"
	"io"
	"time"
)

// Follow reads r like tail -f: at its end it waits for more, looking again
// every interval, until ctx is done; then it ends (io.EOF). A recording
// being written reads through it line by line as the lines come, and a
// line half written is waited for rather than taken as torn.
func Follow(ctx context.Context, r io.Reader, interval time.Duration) io.Reader {
	return &follower{ctx: ctx, r: r, interval: interval}
}

type follower struct {
	ctx      context.Context
	r        io.Reader
	interval time.Duration
}

func (f *follower) Read(p []byte) (int, error) {
	for {
		n, err := f.r.Read(p)
		if n > 0 || (err != nil && err != io.EOF) {
			return n, err
		}
		t := time.NewTimer(f.interval)
		select {
		case <-f.ctx.Done():
			t.Stop()
			return 0, io.EOF
		case <-t.C:
		}
	}
}
