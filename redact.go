package deckhand

import (
	"regexp"
	"strings"
)

// Redacted stands in for a value /inspect does not show.
const Redacted = "<redacted>"

// secretKey matches the keys whose values are likely secrets, at any depth
// of an inspect document (ApiToken, privateKey, splunk-token, ...).
var secretKey = regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth|private|cert|salt|cookie|session|dsn|conn`)

// urlPassword is the password of a URL's user info (postgres://u:pw@db).
var urlPassword = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/@\s:]*:)[^/@\s]*@`)

// ShownLabel reports whether /inspect shows a label's value: deckhand's own
// labels and compose's say how a container is run and watched; any other
// label may carry a secret (traefik basic-auth hashes, API tokens).
func ShownLabel(key string) bool {
	return KeptLabel(key) || strings.HasPrefix(key, "com.docker.compose.")
}

// RedactInspect returns a copy of a `docker inspect` document that every
// role may read: environment values, values of command-line arguments
// (Args, Cmd, Entrypoint, the healthcheck's test), every label value but
// ShownLabel's, the values under secret-looking keys and URL passwords are
// replaced by Redacted. Names and shapes stay, so the document still says
// what is configured. Values of a type JSON does not produce are redacted
// too: what cannot be looked at cannot be judged safe.
func RedactInspect(doc map[string]any) map[string]any {
	return redactMap(doc)
}

func redactMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = redactField(k, v)
	}
	return out
}

func redactField(key string, v any) any {
	switch {
	case empty(v):
		return v
	case secretKey.MatchString(key):
		return Redacted
	case strings.EqualFold(key, "Env"):
		return redactEach(v, redactEnv)
	case strings.EqualFold(key, "Labels"):
		return redactLabels(v)
	case argvKey(key):
		s, ok := stringList(v)
		if !ok {
			return Redacted
		}
		return toAny(RedactArgs(s))
	}
	return redactValue(v)
}

// argvKey names the inspect fields that hold a command line.
func argvKey(key string) bool {
	for _, k := range []string{"Args", "Cmd", "Entrypoint", "Test", "Shell", "OnBuild"} {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return redactMap(x)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return redactMap(m)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e)
		}
		return out
	case []string:
		return redactValue(toAny(x))
	case string:
		return redactURL(x)
	case nil, bool, float64, float32, int, int64, int32, uint64, uint32:
		return x
	}
	return Redacted
}

func redactEach(v any, fn func(string) string) any {
	s, ok := stringList(v)
	if !ok {
		return Redacted
	}
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = fn(e)
	}
	return out
}

// redactEnv keeps a variable's name: which variables are set is what a
// person debugging a container asks.
func redactEnv(kv string) string {
	if k, _, ok := strings.Cut(kv, "="); ok {
		return k + "=" + Redacted
	}
	return Redacted
}

func redactLabels(v any) any {
	var m map[string]any
	switch x := v.(type) {
	case map[string]any:
		m = x
	case map[string]string:
		m = make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
	default:
		return Redacted
	}
	out := make(map[string]any, len(m))
	for k, val := range m {
		if _, isString := val.(string); (ShownLabel(k) && isString) || empty(val) {
			out[k] = val
		} else {
			out[k] = Redacted
		}
	}
	return out
}

// argKind is what an argument makes of the one after it.
type argKind int

const (
	argPlain  argKind = iota
	argValue          // the value of the flag before it
	argScript         // a command line for a shell (sh -c, CMD-SHELL)
)

// RedactArgs returns a copy of a command line with every value an argument
// carries replaced by Redacted: --x=v, -x=v and KEY=v keep what precedes
// the "=", the argument after a flag (--x v, -p v) is replaced whole, a
// URL's password is replaced. A shell script (after -c, or an argument
// holding spaces that no flag took) is redacted word by word, so it stays
// readable. A flag that takes no value costs the next argument: showing
// less is the safe mistake.
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	next := argPlain
	for i, a := range args {
		flag := strings.HasPrefix(a, "-") && a != "-"
		switch {
		case next == argValue && !flag:
			out[i], next = Redacted, argPlain
		case (next == argScript && !flag) || (next == argPlain && strings.ContainsAny(a, " \t\n")):
			out[i], next = strings.Join(RedactArgs(strings.Fields(a)), " "), argPlain
		default:
			out[i], next = redactArg(a)
		}
	}
	return out
}

func redactArg(a string) (string, argKind) {
	switch {
	case a == "--":
		return a, argPlain
	case a == "CMD-SHELL" || a == "-c":
		return a, argScript
	case a == "&&" || a == "||" || a == ";" || a == "|":
		return a, argPlain
	case strings.Contains(a, "="):
		k, _, _ := strings.Cut(a, "=")
		return k + "=" + Redacted, argPlain
	case strings.HasPrefix(a, "-") && a != "-":
		return a, argValue
	}
	return redactURL(a), argPlain
}

func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPassword.ReplaceAllString(s, "${1}"+Redacted+"@")
}

// stringList reads a JSON array of strings.
func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}

// empty values say nothing, and keeping them shows what is not set.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
