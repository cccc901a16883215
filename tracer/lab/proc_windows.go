package lab

import (
	"context"
	"errors"
	"io"
	"syscall"
)

// errWindows says the lab does not run on Windows, and what to do.
var errWindows = errors.New("the lab runs on Linux and macOS only: on Windows, run kubewire in WSL (where the lab works), " +
	"or point kubewire at an existing cluster (kind, minikube, Docker Desktop's Kubernetes) with --kubeconfig or KUBECONFIG")

func sysProcAttr(bool) *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func commandLine(int) ([]string, error) { return nil, errWindows }

func gone(int) bool { return true }

func lockFile(context.Context, string, io.Writer) (func(), error) { return nil, errWindows }

// supported says why the lab cannot run here.
func supported() error { return errWindows }
