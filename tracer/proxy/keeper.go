package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// minKeep is the least kubewire keeps of a body while it passes, however
// small the stored cap: redaction reads whole documents, and a Secret cut
// short cannot be redacted, only dropped.
const minKeep = 1 << 20

// keepLimit is how much of each body the relay keeps for the pipeline:
// the stored cap (never less than minKeep), or everything when bodies are
// stored whole.
func keepLimit(maxBody int) int {
	if maxBody < 0 {
		return -1
	}
	return max(maxBody, minKeep)
}

// keeper keeps the first part of a body as it passes, and counts all of
// it, so a list of thousands of objects costs kubewire its cap, not its
// size. A request body past the limit is hashed too, so kubewire serve can
// match it; a response body is not: hashing a large list costs as much CPU
// as relaying it over TLS, on the relay path.
type keeper struct {
	mu    sync.Mutex
	limit int // < 0: keep everything
	hash  bool
	data  []byte
	total int64
	sum   hash.Hash // started once the body outgrows the limit
}

// newKeeper keeps up to limit bytes of a body; hash asks for the SHA-256
// of a body that outgrows it. length is the body's announced length (-1
// when unknown): the kept part is allocated for it at once.
func newKeeper(limit int, hash bool, length int64) *keeper {
	k := &keeper{limit: limit, hash: hash}
	if length > 0 {
		// Not more than the cap, nor more than the default cap when bodies
		// are kept whole: a client may announce more than it sends.
		bound := int64(defaultMaxBody)
		if limit >= 0 {
			bound = int64(limit)
		}
		k.data = make([]byte, 0, min(length, bound))
	}
	return k
}

// Write keeps what fits and counts the rest; it never fails.
func (k *keeper) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.total += int64(len(p))
	if k.limit < 0 || len(k.data)+len(p) <= k.limit {
		k.keep(p)
		return len(p), nil
	}
	if k.sum == nil && k.hash {
		k.sum = sha256.New()
		k.sum.Write(k.data)
	}
	if k.sum != nil {
		k.sum.Write(p)
	}
	if room := k.limit - len(k.data); room > 0 {
		k.keep(p[:room])
	}
	return len(p), nil
}

// keep appends p, doubling what is allocated up to the limit. append alone
// grows a large slice a quarter at a time: keeping 4 MiB of a list that
// way allocated 20 MiB.
func (k *keeper) keep(p []byte) {
	if need := len(k.data) + len(p); need > cap(k.data) {
		size := max(2*cap(k.data), need, 4<<10)
		if k.limit >= 0 {
			size = min(size, k.limit)
		}
		grown := make([]byte, len(k.data), size)
		copy(grown, k.data)
		k.data = grown
	}
	k.data = append(k.data, p...)
}

// kept is what a keeper saw of a body.
type kept struct {
	// data is the first part of the body (all of it unless cut).
	data []byte
	// total is the body's size.
	total int64
	// sha256 is the hex SHA-256 of the whole body when it was cut and
	// hashed, "" otherwise.
	sha256 string
}

// cut reports whether data is only the first part of the body.
func (k kept) cut() bool { return int64(len(k.data)) < k.total }

// get returns what was kept so far. The relay may go on writing (a request
// body still being sent): data is a snapshot.
func (k *keeper) get() kept {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := kept{data: k.data[:len(k.data):len(k.data)], total: k.total}
	if k.sum != nil {
		out.sha256 = hex.EncodeToString(k.sum.Sum(nil))
	}
	return out
}
