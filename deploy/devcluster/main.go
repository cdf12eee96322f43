// Command devcluster runs a single-machine Kubernetes control plane without
// containers: embedded etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler (all compiled from the Kubernetes Go modules into this one
// binary) and kwok, which simulates the node and its pods.
//
// The binary re-executes itself once per component so that the components do
// not share process-global registries (feature gates, metrics, flags):
//
//	devcluster up --dir DIR          supervisor: certs, children, bootstrap
//	devcluster etcd ...              embedded etcd
//	devcluster apiserver ...         kube-apiserver flags
//	devcluster controller-manager ...kube-controller-manager flags
//	devcluster scheduler ...         kube-scheduler flags
//	devcluster credentials ...       a kubeconfig for one identity (a real node)
//	devcluster version
package main

import (
	"fmt"
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format, as upstream mains do
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream mains do
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric, as upstream mains do
	"k8s.io/component-base/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"

	_ "time/tzdata" // CronJob time zones, as upstream mains do
)

func usage() {
	fmt.Fprintf(os.Stderr, `usage: devcluster <command> [flags]

commands:
  up --dir DIR [flags]      start a whole cluster in DIR (foreground; SIGTERM/SIGINT stops it)
  etcd [flags]              run embedded etcd (used by "up")
  apiserver [flags]         run kube-apiserver (used by "up")
  controller-manager [flags] run kube-controller-manager (used by "up")
  scheduler [flags]         run kube-scheduler (used by "up")
  credentials --dir DIR --user CN [--group O] --out FILE
                            write a kubeconfig for one identity, signed by DIR's CA
  version                   print the Kubernetes version compiled in
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	sub, args := os.Args[1], os.Args[2:]
	switch sub {
	case "up":
		os.Exit(runUp(args))
	case "etcd":
		os.Exit(runEtcd(args))
	case "credentials":
		os.Exit(runCredentials(args))
	case "apiserver", "kube-apiserver":
		cmd := apiserver.NewAPIServerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "controller-manager", "kube-controller-manager":
		cmd := controllermanager.NewControllerManagerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "scheduler", "kube-scheduler":
		cmd := scheduler.NewSchedulerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "version", "--version":
		fmt.Println(version.Get().GitVersion)
	case "help", "-h", "--help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "devcluster: unknown command %q\n", sub)
		usage()
		os.Exit(2)
	}
}
