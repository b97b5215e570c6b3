package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// retryPolicy decides when a request is sent again. Only idempotent
// requests are retried (GET, HEAD and the token endpoint's OAuth2 POST;
// never the upload POST or its DELETE), only for what is likely to pass on
// a second try — a 5xx, a connection reset or a body the server cut off —
// and never past the run's deadline. A 4xx is an answer, not a flake: it is
// never retried, except a 429 whose Retry-After is short and fits the
// deadline, once.
type retryPolicy struct {
	maxRetries    int           // retries after the first attempt
	base          time.Duration // backoff ceiling before the first retry, doubled each time
	maxBackoff    time.Duration // backoff ceiling cap
	maxRetryAfter time.Duration // a longer Retry-After is reported, not waited for
	reserve       time.Duration // time the retried request needs at least, before the deadline

	jitter func(n int64) int64 // uniform in [0, n): full jitter
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time
}

func defaultRetryPolicy() retryPolicy {
	return retryPolicy{
		maxRetries:    2,
		base:          200 * time.Millisecond,
		maxBackoff:    2 * time.Second,
		maxRetryAfter: 10 * time.Second,
		reserve:       250 * time.Millisecond,
		jitter:        rand.Int64N,
		sleep:         sleepContext,
		now:           time.Now,
	}
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// idempotent reports whether r may be sent twice with the same effect.
func (r request) idempotent() bool {
	return r.method == http.MethodGet || r.method == http.MethodHead || r.retry
}

// Retry is why a request was sent again: its answer's status (a 5xx, or
// a 429 with a short Retry-After), or, with no status, a connection reset
// or a body cut off.
type Retry struct {
	Status int
	Reset  bool // the connection was reset before an answer came
	Cut    bool // the answer's body was cut off
}

// String is the retry as evidence shows it ("HTTP 503", "connection
// reset", "body cut off").
func (w Retry) String() string {
	switch {
	case w.Status != 0:
		return "HTTP " + strconv.Itoa(w.Status)
	case w.Reset:
		return "connection reset"
	case w.Cut:
		return "body cut off"
	}
	return ""
}

// retryStrings are the display copies of retries, for evidence.
func retryStrings(rs []Retry) []string {
	out := make([]string, len(rs))
	for i, w := range rs {
		out[i] = w.String()
	}
	return out
}

// attemptLog is what the retries of one exchange showed, for evidence.
type attemptLog struct {
	attempts int     // requests sent, the first included
	retried  []Retry // why each retry was made
	// notRetried says, for a person, why the last failure was not
	// retried when it looked transient; no code reads it.
	notRetried string
}

func (l attemptLog) evidence(ev map[string]any) {
	if l.attempts > 1 {
		ev["attempts"] = l.attempts
		ev["retried"] = retryStrings(l.retried)
	}
	if l.notRetried != "" {
		ev["notRetried"] = l.notRetried
	}
}

// transient names what makes an outcome worth another try; ok is false
// when it is final. A 429 has its own rule (next).
func transient(resp *response, err error) (why Retry, ok bool) {
	if err != nil {
		if tlsFailure(err, "") != nil {
			return Retry{}, false
		}
		if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Retry{Reset: true}, true
		}
		return Retry{}, false
	}
	switch resp.Status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
		http.StatusTooManyRequests:
		return Retry{Status: resp.Status}, true
	}
	if resp.BodyErr != nil && errors.Is(resp.BodyErr, io.ErrUnexpectedEOF) && !errors.Is(resp.BodyErr, errBodyDeadline) {
		return Retry{Cut: true}, true
	}
	return Retry{}, false
}

// next decides whether the outcome of attempt (1-based) is retried, and
// after how long. It records a refusal worth saying in log.notRetried.
func (p *retryPolicy) next(ctx context.Context, r request, attempt int, log *attemptLog, resp *response, err error) (time.Duration, Retry, bool) {
	why, ok := transient(resp, err)
	if !ok || !r.idempotent() || ctx.Err() != nil {
		return 0, Retry{}, false
	}
	if attempt > p.maxRetries {
		return 0, Retry{}, false
	}
	var wait time.Duration
	if why.Status == http.StatusTooManyRequests {
		for _, w := range log.retried {
			if w.Status == http.StatusTooManyRequests {
				return 0, Retry{}, false // once only
			}
		}
		ra := resp.Header.Get("Retry-After")
		d, ok := parseRetryAfter(ra, p.now())
		switch {
		case ra == "":
			return 0, Retry{}, false
		case !ok:
			log.notRetried = "Retry-After " + strconv.Quote(ra) + " does not parse"
			return 0, Retry{}, false
		case d > p.maxRetryAfter:
			log.notRetried = fmt.Sprintf("Retry-After %s is longer than regcheck waits (%s)", d, p.maxRetryAfter)
			return 0, Retry{}, false
		}
		wait = d
	} else {
		ceiling := p.base << (attempt - 1)
		if ceiling <= 0 || ceiling > p.maxBackoff {
			ceiling = p.maxBackoff
		}
		if ceiling > 0 {
			wait = time.Duration(p.jitter(int64(ceiling)))
		}
	}
	if deadline, ok := ctx.Deadline(); ok && p.now().Add(wait+p.reserve).After(deadline) {
		log.notRetried = fmt.Sprintf("a retry in %s would not finish before the run's deadline", wait.Round(time.Millisecond))
		return 0, Retry{}, false
	}
	return wait, why, true
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}
