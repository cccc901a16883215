package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubewire/kubewire/tracer/lab"
)

// labOptions are the flags shared by the lab subcommands.
type labOptions struct {
	dir    string
	source string
	noKwok bool
	wipe   bool
}

func newLabCmd(s Streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "lab",
		Short: "Build, start and stop a real Kubernetes control plane on this machine",
		Long: `lab runs a real Kubernetes control plane on 127.0.0.1: kube-apiserver with
an embedded etcd, kube-controller-manager, kube-scheduler and KWOK fake nodes,
built from source with Go on first use (about 13 minutes on 2 cores, then
cached). It has an admin and two learners: alice, who may do nothing, and bob,
who may read namespace demo. See docs/lab.md.`,
		Example: `  kubewire lab up
  eval "$(kubewire lab env)"
  kubectl get ns
  kubectl --context alice get pods -n demo   # Forbidden
  kubewire lab down`,
		Args: exactArgs(0, "a subcommand"),
	}
	c.AddCommand(newLabBuildCmd(s), newLabUpCmd(s), newLabDownCmd(s), newLabStatusCmd(s), newLabEnvCmd(s))
	return c
}

func (o *labOptions) addDir(c *cobra.Command) {
	c.Flags().StringVar(&o.dir, "dir", "", "the lab's state directory (default $"+lab.DirEnv+" or ~/.local/state/kubewire/lab)")
}

func (o *labOptions) addBuild(c *cobra.Command) {
	c.Flags().StringVar(&o.source, "source", "", "the lab module's directory (default $"+lab.SourceEnv+", or lab/ of the kubewire checkout found above the working directory)")
	c.Flags().BoolVar(&o.noKwok, "no-kwok", false, "skip KWOK: no fake nodes, so Pods stay Pending")
}

func (o *labOptions) validate() error {
	if o.dir == "" {
		d, err := lab.DefaultDir()
		if err != nil {
			return err
		}
		o.dir = d
	}
	return nil
}

func (o *labOptions) buildOptions(s Streams) lab.BuildOptions {
	return lab.BuildOptions{Source: o.source, NoKwok: o.noKwok, Progress: s.ErrOut}
}

func newLabBuildCmd(s Streams) *cobra.Command {
	o := &labOptions{}
	c := &cobra.Command{
		Use:   "build",
		Short: "Build the lab's binaries (or check they are up to date) without starting it",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			b, err := lab.Build(c.Context(), o.buildOptions(s))
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "lab binaries for Kubernetes %s are in %s\n", b.Version, b.Dir)
			return nil
		},
	}
	o.addBuild(c)
	return c
}

func newLabUpCmd(s Streams) *cobra.Command {
	o := &labOptions{}
	c := &cobra.Command{
		Use:   "up",
		Short: "Start the lab (building it first if needed); says so if it already runs",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.runUp(c, s)
		},
	}
	o.addDir(c)
	o.addBuild(c)
	return c
}

func (o *labOptions) runUp(c *cobra.Command, s Streams) error {
	ctx := c.Context()
	if st, err := lab.GetStatus(ctx, o.dir); err == nil && st.Lab != nil && len(st.Running) > 0 {
		// Running already: no build, no start.
		l, err := lab.Up(ctx, lab.Config{Dir: o.dir, Ports: st.Lab.Ports})
		if err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "the lab in %s is already running at %s\n", l.Dir, l.Server)
		return nil
	}
	b, err := lab.Build(ctx, o.buildOptions(s))
	if err != nil {
		return err
	}
	l, err := lab.Up(ctx, lab.Config{Dir: o.dir, Ports: lab.DefaultPorts(), Binaries: b, Progress: s.ErrOut})
	if err != nil {
		return err
	}
	if l.AlreadyRunning {
		fmt.Fprintf(s.Out, "the lab in %s is already running at %s\n", l.Dir, l.Server)
		return nil
	}
	envCmd := "kubewire lab env"
	if def, err := lab.DefaultDir(); err != nil || def != l.Dir {
		envCmd += " --dir " + l.Dir
	}
	fmt.Fprintf(s.Out, "the lab is up at %s (Kubernetes %s); point your shell at it with:\n  eval \"$(%s)\"\n", l.Server, l.Version, envCmd)
	return nil
}

func newLabDownCmd(s Streams) *cobra.Command {
	o := &labOptions{}
	c := &cobra.Command{
		Use:   "down",
		Short: "Stop the lab's processes; keep its state unless --wipe",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if err := lab.Down(o.dir, o.wipe); err != nil {
				return err
			}
			if o.wipe {
				fmt.Fprintf(s.Out, "the lab is stopped and %s deleted\n", o.dir)
			} else {
				fmt.Fprintf(s.Out, "the lab is stopped; its state stays in %s (--wipe deletes it)\n", o.dir)
			}
			return nil
		},
	}
	o.addDir(c)
	c.Flags().BoolVar(&o.wipe, "wipe", false, "also delete the lab's state: PKI, etcd data, logs, kubeconfig")
	return c
}

func newLabStatusCmd(s Streams) *cobra.Command {
	o := &labOptions{}
	c := &cobra.Command{
		Use:   "status",
		Short: "Say whether the lab runs; exit status 3 when it does not",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			st, err := lab.GetStatus(c.Context(), o.dir)
			if err != nil {
				return err
			}
			return printLabStatus(s, o.dir, st)
		},
	}
	o.addDir(c)
	return c
}

func printLabStatus(s Streams, dir string, st *lab.Status) error {
	if st.Lab == nil {
		fmt.Fprintf(s.Out, "no lab in %s; start one with 'kubewire lab up'\n", dir)
		return &ExitError{Code: 3}
	}
	l := st.Lab
	state := "running"
	switch {
	case len(st.Running) == 0:
		state = "stopped"
	case len(st.Stopped) > 0:
		state = "partly running"
	case !st.Ready:
		state = "running, not ready"
	}
	fmt.Fprintf(s.Out, "lab:        %s\nserver:     %s (Kubernetes %s)\ndirectory:  %s\nkubeconfig: %s\naudit log:  %s\n",
		state, l.Server, l.Version, l.Dir, l.Kubeconfig, l.AuditLog)
	for _, p := range st.Running {
		fmt.Fprintf(s.Out, "  %-19s pid %-8d running\n", p.Name, p.PID)
	}
	for _, p := range st.Stopped {
		fmt.Fprintf(s.Out, "  %-19s pid %-8d gone\n", p.Name, p.PID)
	}
	if st.ReadyErr != nil {
		fmt.Fprintf(s.Out, "not ready: %v\n", st.ReadyErr)
	}
	if state != "running" {
		return &ExitError{Code: 3}
	}
	return nil
}

func newLabEnvCmd(s Streams) *cobra.Command {
	o := &labOptions{}
	c := &cobra.Command{
		Use:   "env",
		Short: "Print shell lines that point kubectl and kubewire at the running lab",
		Long: `env prints export lines for KUBECONFIG (the lab's kubeconfig: contexts admin,
the current one, alice and bob), PATH (the lab's kubectl first) and
` + lab.AuditLogEnv + ` (the API server's audit log, which kubewire joins to
traced requests by Audit-Id). Use it as: eval "$(kubewire lab env)"`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			l, err := lab.Open(c.Context(), o.dir)
			if err != nil {
				return err
			}
			fmt.Fprint(s.Out, strings.TrimRight(l.Env(), "\n")+"\n")
			return nil
		},
	}
	o.addDir(c)
	return c
}
