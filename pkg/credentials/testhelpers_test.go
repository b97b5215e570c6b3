package credentials

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Secrets with characters special to JSON and shells.
const (
	secretPassword = `p@ss:w"o\rd$HOME'x`
	secretToken    = `tok"en\$'::refresh`
	secretBearer   = `bear"er\'$:access`
	secretHelper   = `hel"per\pass$'w:rd`
)

var allSecrets = []string{secretPassword, secretToken, secretBearer, secretHelper}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeHelper installs docker-credential-NAME in dir: it answers get for
// the servers in answers (server -> JSON) and list with list, and says
// "not found" otherwise. It uses shell builtins only, since PATH is dir.
func fakeHelper(t *testing.T, dir, name string, answers map[string]string, list string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("#!/bin/sh\nIFS= read -r server\n")
	b.WriteString(`if [ "$1" = list ]; then printf '%s' ` + shellQuote(list) + "; exit 0; fi\n")
	b.WriteString(`case "$server" in` + "\n")
	for server, answer := range answers {
		b.WriteString("  " + shellQuote(server) + ") printf '%s' " + shellQuote(answer) + " ;;\n")
	}
	b.WriteString("  *) printf 'credentials not found in native keychain\\n'; exit 1 ;;\nesac\n")
	writeScript(t, dir, name, b.String())
}

func writeScript(t *testing.T, dir, name, body string) {
	t.Helper()
	path := filepath.Join(dir, helperPrefix+name)
	if err := os.WriteFile(path, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
}

// helperDir makes a PATH holding only the fake helpers.
func helperDir(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell-script credential helpers need a POSIX shell")
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	return dir
}

func helperAnswerJSON(server, user, secret string) string {
	return `{"ServerURL":` + jsonString(server) + `,"Username":` + jsonString(user) + `,"Secret":` + jsonString(secret) + `}`
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
