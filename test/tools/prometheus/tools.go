//go:build tools

// Package tools pins the Prometheus server and promtool the e2e environment
// runs: the real Prometheus scrapes `regcheck serve`, and promtool checks and
// unit-tests the chart's alerting rules.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
