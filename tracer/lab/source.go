package lab

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LabModule is the module path of the lab's source, lab/go.mod in
// kubewire's repository.
const LabModule = "github.com/kubewire/kubewire/lab"

// SourceEnv names the environment variable that points at the lab module's
// directory (the one holding lab/go.mod's go.mod).
const SourceEnv = "KUBEWIRE_LAB_SOURCE"

// FindSource returns the directory of the lab module: $KUBEWIRE_LAB_SOURCE,
// else the first lab/ directory with the lab's go.mod found walking up from
// the working directory, then from the executable's directory.
func FindSource() (string, error) {
	if dir := os.Getenv(SourceEnv); dir != "" {
		if err := checkSource(dir); err != nil {
			return "", fmt.Errorf("%s=%s: %w", SourceEnv, dir, err)
		}
		return filepath.Abs(dir)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil && (len(starts) == 0 || filepath.Dir(exe) != starts[0]) {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	for _, start := range starts {
		for dir := start; ; dir = filepath.Dir(dir) {
			cand := filepath.Join(dir, "lab")
			if checkSource(cand) == nil {
				return cand, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("cannot find the lab's source (a lab/go.mod for module %s) above %s, and no lab is built yet; run kubewire from its repository or set %s to the lab directory of a kubewire checkout",
		LabModule, strings.Join(starts, " or "), SourceEnv)
}

// checkSource reports whether dir holds the lab module's go.mod.
func checkSource(dir string) error {
	mod, err := modulePath(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	if mod != LabModule {
		return fmt.Errorf("%s is module %q, not %s", filepath.Join(dir, "go.mod"), mod, LabModule)
	}
	return nil
}

func modulePath(gomod string) (string, error) {
	return scanGoMod(gomod, "module", func(f []string) (string, bool) {
		if len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), true
		}
		return "", false
	})
}

// kubernetesVersion reads the k8s.io/kubernetes version the lab module
// requires: the lab's Kubernetes version.
func kubernetesVersion(gomod string) (string, error) {
	return scanGoMod(gomod, "k8s.io/kubernetes requirement", func(f []string) (string, bool) {
		if len(f) >= 2 && f[len(f)-2] == "k8s.io/kubernetes" {
			return f[len(f)-1], true
		}
		return "", false
	})
}

func scanGoMod(gomod, what string, match func([]string) (string, bool)) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		if v, ok := match(strings.Fields(line)); ok {
			return v, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", gomod, err)
	}
	return "", fmt.Errorf("no %s in %s", what, gomod)
}
