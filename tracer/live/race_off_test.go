//go:build !race

package live

// underRace is true in a test binary built with -race, which makes
// kubewire several times slower: load tests size themselves by it.
const underRace = false
