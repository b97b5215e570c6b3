package doctor

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// rateLimits reports, per registry, the Docker Hub-style rate-limit
// headers the manifest HEADs carried (a HEAD consumes no pull), or a 429.
// A registry that limits is RateLimited; whether that is a warn or a fail
// is SPEC's one rule, report.ApplyRateLimitRule, over the whole run
// (run.results).
func (d *run) rateLimits() {
	for _, h := range d.hosts {
		r := report.Result{Check: report.CheckRegistryPull, Registry: h.registry, Status: report.StatusPass, Reason: report.ReasonOk}
		seen, limited := false, false
		var limit, remaining, retry string
		for _, s := range d.subjects {
			if !s.ok || s.ref.Registry != h.registry {
				continue
			}
			for _, p := range s.probed {
				if p.push {
					continue
				}
				seen = true
				if p.failed() == report.ReasonRateLimited {
					limited = true
				}
				if rl := p.RateLimit; rl != nil {
					limit, remaining, retry = first(limit, rl.Limit), first(remaining, rl.Remaining), first(retry, rl.RetryAfter)
				}
			}
		}
		rl := report.RateLimit{Limit: limit, Remaining: remaining, RetryAfter: retry}
		if !rl.Empty() {
			r.RateLimit = &rl
		}
		r.Evidence = rl.Evidence()
		switch left := leadingInt(remaining); {
		case !seen:
			r.Status = report.StatusSkip
			r.Message = "no manifest was requested from " + h.registry + ", so no rate-limit headers were seen"
		case limited || (remaining != "" && left == 0):
			r.Status, r.Reason = report.StatusFail, report.ReasonRateLimited
			r.Message = h.registry + " is rate limiting pulls"
			if limit != "" {
				r.Message += fmt.Sprintf(" (%s of %s left)", orZero(remaining), leadingPart(limit))
			}
			if retry != "" {
				r.Message += "; retry after " + retry
			}
			r.Remedy = "wait for the window to reset, authenticate (higher limits per account), or pull through a mirror; HEAD requests (crane digest) do not count"
		case limit != "":
			r.Message = fmt.Sprintf("%s allows %s pulls per window; %s left (manifest HEADs do not count)", h.registry, leadingPart(limit), leadingPart(remaining))
		default:
			r.Message = h.registry + " announces no pull rate limit (no ratelimit-* headers on manifest requests)"
		}
		d.add(RateLimit, r)
	}
}

func first(have, v string) string {
	if have != "" {
		return have
	}
	return v
}

// leadingPart drops the window of "100;w=21600".
func leadingPart(s string) string {
	p, _, _ := strings.Cut(s, ";")
	return strings.TrimSpace(p)
}

func leadingInt(s string) int {
	n, err := strconv.Atoi(leadingPart(s))
	if err != nil {
		return -1
	}
	return n
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return leadingPart(s)
}
