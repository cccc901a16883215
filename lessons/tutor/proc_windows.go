//go:build windows

package tutor

import (
	"os/exec"
)

// shell runs a lesson's command with sh -c: the bundled lessons are
// written for a POSIX shell (Git for Windows brings one).
func shell(command string) *exec.Cmd { return exec.Command("sh", "-c", command) }

// ownGroup does nothing on Windows: there are no process groups to signal.
func ownGroup(*exec.Cmd) {}

// interrupt ends the command: Windows has no SIGINT to send to another
// process.
func interrupt(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

func kill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
