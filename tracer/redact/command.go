package redact

import (
	"net/http"
	"regexp"
	"strings"
)

// Command returns a copy of a command line (argv, such as the child command
// of "kubewire run -- kubectl ...") with secret values replaced by a mark
// that keeps their length, e.g. "--token=REDACTED (925 bytes)". It is meant
// for the recording header, error messages and any display of the command.
// args is never modified.
//
// Every argument is looked at, after a "--" and in nested commands too
// ("kubectl exec pod -- psql --password=x"). Replaced:
//   - the value of credential flags, as --flag=VALUE or --flag VALUE:
//     --token, --password, --client-secret, --bootstrap-token and any flag
//     whose name ends in -password, -token, -secret or -api-key;
//   - the password of --user/-u/--proxy-user USER:PASSWORD (curl);
//   - the VALUE of --from-literal KEY=VALUE, whatever the key;
//   - the VALUE of KEY=VALUE, positional or as a flag's value (kubectl set
//     env, --auth-provider-arg, --exec-env, --env), when KEY names a secret:
//     password, passwd, pwd, secret, token, apikey, api_key, api-key,
//     private_key, private-key or credential, in any case;
//   - the credential of an Authorization, Proxy-Authorization, Cookie,
//     Set-Cookie, X-Auth-Token or X-Api-Key header given with -H/--header;
//   - the values in the -p/--patch of a kubectl patch that may target a
//     Secret (a secret argument, or -f/-k whose target is unknown), or the
//     whole patch when its values cannot be picked out;
//   - JWTs and PEM private key blocks anywhere in any argument.
//
// Kept: flag names, keys, user names, header names and auth schemes; values
// of flags naming a file (--token-file, --client-key, --cert, --key, any
// name ending in -file, -path or -dir, --patch-file); empty values; -p
// outside such a patch (kubectl patch's patch, not a password); and any
// other argument, such as label selectors like app=web.
func Command(args []string) []string {
	if args == nil {
		return nil
	}
	secretPatch := patchesSecret(args)
	out := make([]string, len(args))
	next := argPlain // what the previous flag says this argument is
	for i, a := range args {
		if next != argPlain {
			out[i] = String(redactValue(next, a))
			next = argPlain
			continue
		}
		out[i], next = redactArg(a, secretPatch)
		out[i] = String(out[i])
	}
	return out
}

// argKind says what a flag's value is.
type argKind int

const (
	argPlain   argKind = iota // not a value we know
	argSecret                 // a credential: replaced whole
	argLiteral                // --from-literal KEY=VALUE
	argUser                   // USER:PASSWORD
	argHeader                 // an HTTP header line
	argPatch                  // the patch of a kubectl patch on a Secret
)

// redactArg redacts one argument that is not a flag's separate value, and
// says what the next argument is when a is a flag waiting for its value.
func redactArg(a string, secretPatch bool) (string, argKind) {
	if len(a) < 2 || a[0] != '-' || a == "--" {
		return keyValue(a), argPlain
	}
	if kind := shortKind(a[1], secretPatch); kind != argPlain {
		switch {
		case len(a) == 2:
			return a, kind
		case a[2] == '=':
			return a[:3] + redactValue(kind, a[3:]), argPlain
		default: // -uUSER:PASS, -HLINE, -pPATCH
			return a[:2] + redactValue(kind, a[2:]), argPlain
		}
	}
	name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
	kind := flagKind(name, secretPatch)
	switch {
	case !hasValue:
		return a, kind
	case kind == argPlain:
		return a[:len(a)-len(value)] + keyValue(value), argPlain
	default:
		return a[:len(a)-len(value)] + redactValue(kind, value), argPlain
	}
}

// shortKind says what the value of the one-letter flag -c is: -u (curl's
// USER:PASSWORD), -H (a header) and, in a patch of a Secret, -p.
func shortKind(c byte, secretPatch bool) argKind {
	switch {
	case c == 'u':
		return argUser
	case c == 'H':
		return argHeader
	case c == 'p' && secretPatch:
		return argPatch
	}
	return argPlain
}

// flagKind says what the value of the flag called name (without dashes) is.
func flagKind(name string, secretPatch bool) argKind {
	n := strings.ReplaceAll(strings.ToLower(name), "_", "-")
	switch {
	case n == "from-literal":
		return argLiteral
	case n == "user" || n == "proxy-user":
		return argUser
	case n == "header":
		return argHeader
	case n == "patch" && secretPatch:
		return argPatch
	case SecretName(n):
		// --token, --password, --docker-password, --client-secret,
		// curl's --oauth2-bearer; not --token-file or --client-key,
		// whose values are paths.
		return argSecret
	}
	return argPlain
}

// redactValue redacts v, the value of a flag of the given kind.
func redactValue(kind argKind, v string) string {
	if v == "" {
		return v
	}
	switch kind {
	case argSecret:
		return marker(len(v))
	case argLiteral:
		key, val, ok := strings.Cut(v, "=")
		if !ok {
			return marker(len(v)) // not KEY=VALUE: it may be the value alone
		}
		if val == "" {
			return v
		}
		return key + "=" + marker(len(val))
	case argUser:
		user, pass, ok := strings.Cut(v, ":")
		if !ok || pass == "" {
			return v
		}
		return user + ":" + marker(len(pass))
	case argHeader:
		return headerArg(v)
	case argPatch:
		return secretPatchArg(v)
	}
	return keyValue(v)
}

// argKey is the shape of a key in KEY=VALUE: an environment variable, a
// label or an option name; not a URL or JSON.
var argKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// keyValue marks VALUE in KEY=VALUE when KEY names a secret, and secrets
// in a URL's query.
func keyValue(s string) string {
	if strings.Contains(s, "://") {
		return URL(s)
	}
	key, val, ok := strings.Cut(s, "=")
	if !ok || val == "" || !argKey.MatchString(key) || !SecretName(key) {
		return s
	}
	return key + "=" + marker(len(val))
}

// headerArg redacts a "Name: value" header line as Headers would.
func headerArg(line string) string {
	name, rest, ok := strings.Cut(line, ":")
	val := strings.TrimLeft(rest, " \t")
	if !ok || val == "" {
		return line
	}
	h := Headers(http.Header{strings.TrimSpace(name): {val}})
	for _, v := range h {
		return line[:len(line)-len(val)] + v[0]
	}
	return line
}

// patchesSecret reports whether args is a kubectl patch that may target a
// Secret: a secret resource argument, or a -f/-k whose target is unknown.
func patchesSecret(args []string) bool {
	patch, target := false, false
	for _, a := range args {
		patch = patch || a == "patch"
		switch {
		case strings.HasPrefix(a, "-f"), strings.HasPrefix(a, "-k"),
			a == "--filename", strings.HasPrefix(a, "--filename="),
			a == "--kustomize", strings.HasPrefix(a, "--kustomize="):
			target = true
		case !strings.HasPrefix(a, "-"):
			for _, part := range strings.Split(a, ",") {
				res, _, _ := strings.Cut(part, "/")
				for _, s := range []string{"secret", "secrets", "secret.v1", "secrets.v1"} {
					target = target || strings.EqualFold(res, s)
				}
			}
		}
	}
	return patch && target
}

// secretPatchArg redacts the patch of a Secret with the body redactor,
// keeping its shape; when that finds nothing to remove, the patch is
// replaced whole, so a secret patch never gets through.
func secretPatchArg(v string) string {
	// Scrub first, so that Body reporting a change means it found the
	// Secret's values, not a stray JWT.
	scrubbed := String(v)
	ct := "application/yaml"
	if t := strings.TrimSpace(scrubbed); t != "" && (t[0] == '{' || t[0] == '[') {
		ct = "application/json"
	}
	out, changed := Body(ct, []byte(scrubbed), Context{Resource: "secrets"})
	if !changed || len(out) == 0 {
		return marker(len(v))
	}
	return string(out)
}
