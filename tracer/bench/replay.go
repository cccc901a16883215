package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/kubewire/kubewire/tracer/record"
)

// replay times `kubewire replay -d line` of the recording kubewire made
// during the GET and watch workloads, its output going to the null
// device (plain text, as when piped).
func (h *harness) replay(ctx context.Context) error {
	if h.res.Recording == "" {
		return errors.New("no recording to replay: the get1 and get16 workloads need the kubewire path")
	}
	n, size, err := countExchanges(h.res.Recording)
	if err != nil {
		return fmt.Errorf("read the recording: %w", err)
	}
	rr := &ReplayResult{Exchanges: n, Bytes: size}
	h.res.Replay = rr
	for i := range h.sz.ReplayRuns {
		devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		var errOut bytes.Buffer
		cmd := exec.CommandContext(ctx, h.kubewire, "replay", "-d", "line", h.res.Recording)
		cmd.Env = cleanEnv("NO_COLOR=1")
		cmd.Stdout, cmd.Stderr = devNull, &errOut
		t := time.Now()
		err = cmd.Run()
		d := time.Since(t)
		devNull.Close()
		if err != nil {
			return fmt.Errorf("kubewire replay, run %d: %v: %s", i+1, err, trim(errOut.String()))
		}
		rr.Times = append(rr.Times, d)
		if peak, ok := childPeakRSS(cmd.ProcessState); ok && peak > rr.PeakRSS {
			rr.PeakRSS = peak
		}
		h.logf("replay run %d: %d exchanges in %s", i+1, n, d.Round(time.Millisecond))
	}
	return nil
}

// countExchanges counts a recording's exchanges and its size.
func countExchanges(file string) (int, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	rd, err := record.NewReader(f, file)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for {
		l, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		if l.Type == record.TypeExchange {
			n++
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	return n, fi.Size(), nil
}
