// Package tui is the step-through replay, for the classroom: a
// recording's calls one at a time. Step shows one call per Enter, for a
// terminal that cannot draw a screen and for screen readers.
//
// Every call is rendered by render (Call.Render), so it reads exactly as
// the replay shows it, with the number the whole replay gives it.
package tui
