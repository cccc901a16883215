package redact

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A JWT whose payload holds the canary.
const canaryJWT = "eyJhbGciOiJSUzI1NiJ9.eyJ" + canary + ".c2lnbmF0dXJlc2lnbmF0dXJl"

const canaryKey = "-----BEGIN RSA PRIVATE KEY-----\n" + canary + "\n-----END RSA PRIVATE KEY-----"

func TestCommand(t *testing.T) {
	m := marker(len(canary)) // "REDACTED (22 bytes)"
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"token flag with equals",
			[]string{"kubectl", "--token=" + canary, "get", "pods"},
			[]string{"kubectl", "--token=" + m, "get", "pods"}},
		{"token flag then value",
			[]string{"kubectl", "--token", canary, "get", "pods"},
			[]string{"kubectl", "--token", m, "get", "pods"}},
		{"password flag",
			[]string{"kubectl", "get", "pods", "--password=" + canary},
			[]string{"kubectl", "get", "pods", "--password=" + m}},
		{"from-literal keeps the key",
			[]string{"kubectl", "create", "secret", "generic", "s", "--from-literal=p=" + canary, "--from-literal", "q=" + canary},
			[]string{"kubectl", "create", "secret", "generic", "s", "--from-literal=p=" + m, "--from-literal", "q=" + m}},
		{"docker-registry password",
			[]string{"kubectl", "create", "secret", "docker-registry", "r", "--docker-server=s", "--docker-username=u", "--docker-password=" + canary},
			[]string{"kubectl", "create", "secret", "docker-registry", "r", "--docker-server=s", "--docker-username=u", "--docker-password=" + m}},
		{"set-credentials",
			[]string{"kubectl", "config", "set-credentials", "u", "--client-key=/path/k.pem", "--token=" + canary, "--auth-provider-arg=client-secret=" + canary, "--auth-provider-arg=client-id=app"},
			[]string{"kubectl", "config", "set-credentials", "u", "--client-key=/path/k.pem", "--token=" + m, "--auth-provider-arg=client-secret=" + m, "--auth-provider-arg=client-id=app"}},
		{"set env",
			[]string{"kubectl", "set", "env", "deploy/web", "DB_PASSWORD=" + canary, "MODE=prod"},
			[]string{"kubectl", "set", "env", "deploy/web", "DB_PASSWORD=" + m, "MODE=prod"}},
		{"patch of a configmap untouched",
			[]string{"kubectl", "patch", "configmap", "c", "-p", `{"data":{"k":"v"}}`},
			[]string{"kubectl", "patch", "configmap", "c", "-p", `{"data":{"k":"v"}}`}},
		{"curl header and user",
			[]string{"curl", "-H", "Authorization: Bearer " + canary, "-u", "admin:" + canary, "https://api.example.com/healthz"},
			[]string{"curl", "-H", "Authorization: Bearer " + m, "-u", "admin:" + m, "https://api.example.com/healthz"}},
		{"nested command after --",
			[]string{"kubectl", "exec", "p", "--", "psql", "--password=" + canary},
			[]string{"kubectl", "exec", "p", "--", "psql", "--password=" + m}},
		{"jwt inside an argument",
			[]string{"kubectl", "annotate", "pod", "p", "seen-by=" + canaryJWT},
			[]string{"kubectl", "annotate", "pod", "p", "seen-by=REDACTED JWT (" + strconv.Itoa(len(canaryJWT)) + " bytes)"}},
		{"private key inside an argument",
			[]string{"kubectl", "annotate", "pod", "p", "note=" + canaryKey},
			[]string{"kubectl", "annotate", "pod", "p", "note=REDACTED PRIVATE KEY (" + strconv.Itoa(len(canaryKey)) + " bytes)"}},
		{"curl bearer flag and a token in a URL",
			[]string{"curl", "--oauth2-bearer", canary, "https://127.0.0.1:6443/api?watch=1&access_token=" + canary},
			[]string{"curl", "--oauth2-bearer", m, "https://127.0.0.1:6443/api?watch=1&access_token=REDACTED-22-bytes"}},
		{"label selector untouched",
			[]string{"kubectl", "get", "pods", "-l", "app=web"},
			[]string{"kubectl", "get", "pods", "-l", "app=web"}},
		{"tls cert and key paths untouched",
			[]string{"kubectl", "create", "secret", "tls", "t", "--cert=c.pem", "--key=k.pem"},
			[]string{"kubectl", "create", "secret", "tls", "t", "--cert=c.pem", "--key=k.pem"}},
		{"file flags and empty values untouched",
			[]string{"kubectl", "--token-file=/var/run/token", "--password=", "patch", "secret", "s", "--patch-file=p.json"},
			[]string{"kubectl", "--token-file=/var/run/token", "--password=", "patch", "secret", "s", "--patch-file=p.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := checkCommand(t, tc.args)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Command(%q)\n got %q\nwant %q", tc.args, got, tc.want)
			}
		})
	}
}

// A patch of a Secret on the command line keeps its shape: keys stay,
// values are marked.
func TestCommandSecretPatch(t *testing.T) {
	cases := []struct {
		name string
		args []string
		at   int    // index of the patch
		keep string // in the patch, when its shape is kept
	}{
		{"merge patch of stringData",
			[]string{"kubectl", "patch", "secret", "s", "-p", `{"stringData":{"k":"` + canary + `"}}`},
			5, `"k"`},
		{"json patch of data",
			[]string{"kubectl", "patch", "secrets/s", "--type=json", "-p", `[{"op":"add","path":"/data/k","value":"` + canaryB64 + `"}]`},
			5, `/data/k`},
		{"patch flag with equals and a file target",
			[]string{"kubectl", "patch", "-f", "s.yaml", "--patch=" + `{"data":{"k":"` + canaryB64 + `"}}`},
			4, `"k"`},
		{"patch glued to -p",
			[]string{"kubectl", "patch", "secret", "s", `-p{"stringData":{"k":"` + canary + `"}}`},
			4, `"k"`},
		{"yaml patch",
			[]string{"kubectl", "patch", "secret.v1", "s", "-p", "stringData:\n  k: " + canary + "\n"},
			5, "k:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := checkCommand(t, tc.args)
			for i := range got {
				if i != tc.at && got[i] != tc.args[i] {
					t.Errorf("argument %d changed: %q -> %q", i, tc.args[i], got[i])
				}
			}
			if p := got[tc.at]; !strings.Contains(p, tc.keep) || !strings.Contains(p, Mark+" (") {
				t.Errorf("patch %q: want its values marked, keeping %q", p, tc.keep)
			}
		})
	}
}

// checkCommand runs Command and checks what holds for every command line:
// the input is unchanged and not shared, and the canary is gone.
func checkCommand(t *testing.T, args []string) []string {
	t.Helper()
	in := slices.Clone(args)
	got := Command(args)
	if !slices.Equal(args, in) {
		t.Fatalf("Command modified its argument: %q -> %q", in, args)
	}
	if len(got) != len(args) {
		t.Fatalf("Command(%q) = %q: want %d arguments", args, got, len(args))
	}
	if len(got) > 0 && &got[0] == &args[0] {
		t.Fatal("Command returned its argument, not a copy")
	}
	joined := strings.Join(got, "\x00")
	if strings.Contains(joined, canary) || strings.Contains(joined, canaryB64) {
		t.Fatalf("secret survived: %q", got)
	}
	return got
}
