package cmd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubewire/kubewire/tracer/lab/labtest"
	"github.com/kubewire/kubewire/tracer/sample"
)

// Every command the sample says it answers (run's preview suggests them)
// is answered whole by serve --sample, with the lab's kubectl and no
// cluster asked.
func TestSampleAnswersItsCommands(t *testing.T) {
	l := labtest.Lab(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("KUBECONFIG", filepath.Join(home, "no-such-kubeconfig"))
	t.Setenv("NO_COLOR", "1")
	t.Setenv("PATH", l.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, c := range sample.Commands {
		t.Run(c, func(t *testing.T) {
			args := append([]string{"serve", "--sample", "--"}, strings.Fields(c)...)
			stdout, stderr, code := runKubewire(t, args...)
			if code != 0 || stdout == "" {
				t.Fatalf("exit %d, stdout %q\n%s", code, stdout, stderr)
			}
			if strings.Contains(stderr, "not in the recording") || !strings.Contains(stderr, "↺ recorded answer #") {
				t.Errorf("not every call was answered from the sample:\n%s", stderr)
			}
		})
	}
}
