package lab

import (
	"fmt"
	"os"
	"strings"
)

// auditPolicy records every request at Metadata level, one event at
// ResponseComplete (long-running calls also get ResponseStarted), except the
// API server's own loopback traffic, lease renewals and KWOK's node status
// updates, which would bury a learner's requests.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: ["system:apiserver"]
- level: None
  users: ["system:kube-controller-manager", "system:kube-scheduler", "system:kwok-controller"]
  resources:
  - group: coordination.k8s.io
    resources: ["leases"]
- level: None
  users: ["system:kwok-controller"]
  verbs: ["patch", "update"]
  resources:
  - group: ""
    resources: ["nodes/status"]
- level: Metadata
`

// seedManifest is what every lab starts with: namespace demo, where bob
// may read (ClusterRole view) and alice may do nothing.
const seedManifest = `apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: bob-view
  namespace: demo
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: bob
`

// sampleManifest is a small app for learners to look at, in its own
// namespace so that the tests' namespace demo stays empty: a Deployment of
// two pods (Running on the fake nodes, no container behind them) and a
// Service in front of them.
const sampleManifest = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
  namespace: shop
  labels:
    app: frontend
spec:
  replicas: 2
  selector:
    matchLabels:
      app: frontend
  template:
    metadata:
      labels:
        app: frontend
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: frontend
  namespace: shop
spec:
  selector:
    app: frontend
  ports:
  - port: 80
    targetPort: 80
`

// kwokManifest configures KWOK's emulation of what a kubelet does beyond
// status: logs from one file in CRI format, exec running the command on the
// host (as nobody when the lab runs as root), attach following another
// file (what is appended to it is what an attached client sees), and
// port-forward to cat, an echo. It needs KWOK's CRDs.
func kwokManifest(logsFile, attachFile string) string {
	security := ""
	if os.Geteuid() == 0 {
		security = "\n      securityContext:\n        runAsUser: 65534\n        runAsGroup: 65534"
	}
	return fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: lab-logs
spec:
  logs:
  - logsFile: %q
    follow: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: lab-exec
spec:
  execs:
  - local:
      workDir: /%s
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterAttach
metadata:
  name: lab-attach
spec:
  attaches:
  - logsFile: %q
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: lab-port-forward
spec:
  forwards:
  - command: ["cat"]
`, logsFile, security, attachFile)
}

// nodeManifest declares the lab's fake nodes. KWOK manages every node and
// fills in its status (addresses 127.0.0.1, capacity, conditions).
func nodeManifest(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Node
metadata:
  name: lab-node-%d
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: lab-node-%d
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
`, i, i)
	}
	return b.String()
}

// podLog is the text every fake container "logs", in CRI log format.
const podLog = `2026-01-01T00:00:00.000000000Z stdout F hello from a kwok fake container
2026-01-01T00:00:01.000000000Z stdout F this log is served by KWOK, not a real kubelet
2026-01-01T00:00:02.000000000Z stderr F every container in the lab shows these lines
`
