// Command kubewire-lab is the kubewire lab's control plane and kubectl in one
// binary. Each part runs as its own process; the part is chosen by the first
// argument or, for kubectl, by the name the binary was called by:
//
//	kubewire-lab apiserver --etcd-data DIR --etcd-client URL --etcd-peer URL [--etcd-log FILE] -- [kube-apiserver flags]
//	kubewire-lab controller-manager [kube-controller-manager flags]
//	kubewire-lab scheduler [kube-scheduler flags]
//	kubewire-lab kubectl [kubectl args]   (or a link named kubectl)
//	kubewire-lab version
//
// Only kubewire's `lab` command is meant to start these; see docs/lab.md in
// the kubewire repository.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // CronJob time zones, as in kube-apiserver's own main

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/component-base/version"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"

	_ "k8s.io/client-go/plugin/pkg/client/auth" // kubectl's auth plugins
)

func main() {
	part, args := dispatch(os.Args)
	switch part {
	case "apiserver":
		os.Exit(runAPIServer(args))
	case "controller-manager":
		os.Exit(runCobra(controllermanager.NewControllerManagerCommand(), args))
	case "scheduler":
		os.Exit(runCobra(scheduler.NewSchedulerCommand(), args))
	case "kubectl":
		runKubectl(args)
	case "version":
		fmt.Println(version.Get().GitVersion)
	default:
		fmt.Fprintf(os.Stderr, "kubewire-lab: unknown part %q; want apiserver, controller-manager, scheduler, kubectl or version\n", part)
		os.Exit(2)
	}
}

// dispatch picks the part to run: by the program name when it is kubectl
// (a link), else by the first argument.
func dispatch(argv []string) (string, []string) {
	name := strings.TrimSuffix(filepath.Base(argv[0]), ".exe")
	if name == "kubectl" {
		return "kubectl", argv[1:]
	}
	if len(argv) < 2 {
		return "", nil
	}
	return argv[1], argv[2:]
}

func runCobra(cmd *cobra.Command, args []string) int {
	cmd.SetArgs(args)
	return cli.Run(cmd)
}

func runKubectl(args []string) {
	os.Args = append([]string{"kubectl"}, args...)
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) //nolint:errcheck
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err)
	}
}

// runAPIServer starts an embedded etcd on loopback, then kube-apiserver in
// this process. Both stop together.
func runAPIServer(args []string) int {
	fs := flag.NewFlagSet("apiserver", flag.ContinueOnError)
	dataDir := fs.String("etcd-data", "", "etcd data directory")
	clientURL := fs.String("etcd-client", "http://127.0.0.1:2379", "etcd client URL (loopback)")
	peerURL := fs.String("etcd-peer", "http://127.0.0.1:2380", "etcd peer URL (loopback)")
	logFile := fs.String("etcd-log", "", "etcd log file (default DIR/../etcd.log)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "kubewire-lab apiserver: --etcd-data is required")
		return 2
	}
	if *logFile == "" {
		*logFile = filepath.Join(*dataDir, "..", "etcd.log")
	}
	etcd, err := startEtcd(*dataDir, *clientURL, *peerURL, *logFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubewire-lab apiserver: etcd: %v\n", err)
		return 1
	}
	defer etcd.Close()

	cmd := apiserver.NewAPIServerCommand()
	cmd.SetArgs(append([]string{"--etcd-servers=" + *clientURL}, fs.Args()...))
	return cli.Run(cmd)
}

func startEtcd(dir, client, peer, logFile string) (*embed.Etcd, error) {
	cu, err := url.Parse(client)
	if err != nil {
		return nil, fmt.Errorf("--etcd-client: %w", err)
	}
	pu, err := url.Parse(peer)
	if err != nil {
		return nil, fmt.Errorf("--etcd-peer: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = "lab"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{logFile}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		return nil, errors.New("not ready after 60s")
	}
	return e, nil
}
