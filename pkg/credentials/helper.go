package credentials

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// Docker's credential helper protocol: "docker-credential-NAME get" reads a
// server URL on stdin and prints {"ServerURL","Username","Secret"}; a
// Username of "<token>" means Secret is an identity token. "list" prints
// {URL: username}. A helper that has nothing says so on stdout.
// We run helpers ourselves, not through docker-credential-helpers' client,
// so that every call is bounded by a context.
const (
	helperPrefix       = "docker-credential-"
	helperSourcePrefix = "credential-helper/"
	helperTokenUser    = "<token>"
	helperNotFound     = "credentials not found in native keychain"

	// helperTimeout bounds one helper call when the caller's context
	// allows longer; helpers such as ecr-login or gcloud go to the network.
	helperTimeout = 30 * time.Second
	// helperMaxOutput caps what a helper may print.
	helperMaxOutput = 1 << 20
)

func helperSource(name string) string { return helperSourcePrefix + name }

var (
	errHelperMissing  = errors.New("helper not found")
	errHelperTimeout  = errors.New("helper timed out")
	errHelperNotFound = errors.New("no credentials in helper")
	errHelperName     = errors.New("invalid helper name")
	errHelperOutput   = errors.New("helper output is not JSON")
)

// helperGet asks helper for the credential filed under server. found is
// false, with no problem, when the helper has none.
func helperGet(ctx context.Context, name, server string) (cred Credential, found bool, problem *Problem) {
	out, err := runHelper(ctx, name, "get", server)
	if errors.Is(err, errHelperNotFound) {
		return Credential{}, false, nil
	}
	if err != nil {
		return Credential{}, false, helperProblem(name, server, "get", err)
	}
	var resp struct {
		Username string `json:"Username"`
		Secret   string `json:"Secret"`
	}
	if json.Unmarshal(out, &resp) != nil {
		return Credential{}, false, helperProblem(name, server, "get", errHelperOutput)
	}
	cred = Credential{Source: helperSource(name), Origin: OriginHelper, Key: server}
	switch {
	case resp.Username == helperTokenUser:
		cred.IdentityToken = resp.Secret
	default:
		cred.Username, cred.Password = resp.Username, resp.Secret
	}
	switch {
	case cred.Anonymous():
		return Credential{}, false, nil
	case cred.Username != "" && cred.Password == "":
		p := newProblem(helperStore(name), server, report.ReasonIncompleteCredentials,
			fmt.Sprintf("credential helper %s%s has a username but no secret for %s", helperPrefix, name, server))
		return Credential{}, false, &p
	}
	return cred, true, nil
}

// helperList asks helper which servers it holds credentials for, and the
// username of each (never a secret).
func helperList(ctx context.Context, name string) (map[string]string, *Problem) {
	out, err := runHelper(ctx, name, "list", "")
	if err != nil {
		return nil, helperProblem(name, "", "list", err)
	}
	var list map[string]string
	if json.Unmarshal(out, &list) != nil {
		return nil, helperProblem(name, "", "list", errHelperOutput)
	}
	return list, nil
}

// runHelper runs "docker-credential-NAME verb" with input on stdin. Its
// stderr is discarded and its stdout never reaches an error: either could
// echo a secret.
func runHelper(ctx context.Context, name, verb, input string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.Contains(name, "..") {
		return nil, errHelperName
	}
	bin, err := exec.LookPath(helperPrefix + name)
	if err != nil {
		return nil, errHelperMissing
	}
	ctx, cancel := context.WithTimeout(ctx, helperTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, verb)
	cmd.Stdin = strings.NewReader(input)
	var stdout cappedBuffer
	cmd.Stdout = &stdout
	// A helper that leaves a child holding stdout must not hang us.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, errHelperTimeout
	}
	if err != nil {
		if strings.TrimSpace(stdout.String()) == helperNotFound {
			return nil, errHelperNotFound
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("exit status %d", exit.ExitCode())
		}
		return nil, errors.New("could not be started")
	}
	return stdout.Bytes(), nil
}

// helperProblem explains a failed helper call as CredentialsUnreadable.
func helperProblem(name, server, verb string, err error) *Problem {
	bin := helperPrefix + name
	var what string
	switch {
	case errors.Is(err, errHelperName):
		what = fmt.Sprintf("credential helper name %q is not a plain name", name)
	case errors.Is(err, errHelperMissing):
		what = fmt.Sprintf("credential helper %s is not on PATH", bin)
	case errors.Is(err, errHelperTimeout):
		what = fmt.Sprintf("credential helper %s did not answer %q in time", bin, verb)
	case errors.Is(err, errHelperOutput):
		what = fmt.Sprintf("credential helper %s answered %q with something other than JSON", bin, verb)
	default:
		what = fmt.Sprintf("credential helper %s failed on %q (%v)", bin, verb, err)
	}
	if server != "" {
		what += " for " + server
	}
	p := newProblem(helperStore(name), server, report.ReasonCredentialsUnreadable, what)
	return &p
}

// cappedBuffer keeps the first helperMaxOutput bytes written to it.
type cappedBuffer struct{ bytes.Buffer }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := helperMaxOutput - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
