package proxy

import (
	"fmt"
	"sync"
)

// The relay path is sacred: bytes go to the client as they arrive from the
// API server, whatever kubewire does with them. So the relay only takes
// note of what passes (headers cloned, bytes copied, times read from the
// clock) and hands it to the pipeline; one goroutine then does the capture's
// work in the order the relay handed it over: annotating, redacting,
// decoding streams, writing lines to the sinks. An exchange's lines keep
// their order (its exchange line, its events, its end), and the sinks see
// lines from one goroutine only.
//
// Handing work over never blocks. A recording that cannot keep up (a slow
// disk, a paused pipe) holds back only the pipeline, not traffic: the work
// waits in memory, and the user is told once when it falls far behind. What
// the relay keeps of each body is capped (see keeper), so each waiting job
// holds a bounded amount.

// behind is how many jobs may wait before the user is told that the
// recording lags behind the traffic.
const behind = 20000

// pipeline runs the capture's work off the relay path, in order.
type pipeline struct {
	diag Diagnostics

	mu      sync.Mutex
	jobs    []func()
	wake    chan struct{} // a token when jobs were added
	closed  bool
	done    chan struct{}
	lagging bool // the user was told the recording lags
}

func newPipeline(diag Diagnostics) *pipeline {
	q := &pipeline{diag: diag, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.loop()
	return q
}

// push hands a job to the pipeline; it never waits, except for a
// straggler after close, which runs in the caller once the queue is done.
func (q *pipeline) push(job func()) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		<-q.done
		job()
		return
	}
	q.jobs = append(q.jobs, job)
	n := len(q.jobs)
	tell := n >= behind && !q.lagging
	if tell {
		q.lagging = true
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	if tell {
		q.diag.Printf("%s", fmt.Sprintf("the recording is %d steps behind the traffic: kubewire keeps them in memory rather than slow the clients down (a slow disk or a paused pipe?)", n))
	}
}

func (q *pipeline) loop() {
	defer close(q.done)
	for range q.wake {
		for {
			q.mu.Lock()
			jobs := q.jobs
			q.jobs = nil
			if len(jobs) == 0 {
				q.lagging = false
				q.mu.Unlock()
				break
			}
			q.mu.Unlock()
			for _, job := range jobs {
				job()
			}
		}
		q.mu.Lock()
		end := q.closed && len(q.jobs) == 0
		q.mu.Unlock()
		if end {
			return
		}
	}
}

// close runs what is queued and stops the pipeline.
func (q *pipeline) close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		<-q.done
		return
	}
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	<-q.done
}
