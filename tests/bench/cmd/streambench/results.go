package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// results is everything one run measured; results.json holds it for the plots.
type results struct {
	Options    map[string]string `json:"options"`
	LoadBefore string            `json:"load_before"`
	LoadAfter  string            `json:"load_after"`
	Closed     []closedRun       `json:"closed"`
	Open       []openRun         `json:"open"`
	Drain      []drainRun        `json:"drain"`
	Hops       []hopRun          `json:"hops"`
	Profiles   []string          `json:"profiles,omitempty"`
}

// closedRun is one variant in one round of the closed loop. CPU is in µs per request:
// Serving of the gateway (or uvicorn) during the load, System of it and its consumer
// from the start of the load until every reply was out.
type closedRun struct {
	Variant    string  `json:"variant"`
	System     string  `json:"system"`
	Round      int     `json:"round"`
	Requests   int     `json:"requests"`
	Rate       float64 `json:"rate"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	ServingCPU float64 `json:"serving_cpu_us"`
	SystemCPU  float64 `json:"system_cpu_us"`
	LogBytes   float64 `json:"log_bytes_per_request"`
}

// openRun is one system at one rate in one round of the open loop. Latencies in ms
// from the scheduled send; -1: not within the run (no answer or no reply).
type openRun struct {
	System    string  `json:"system"`
	Variant   string  `json:"variant"`
	Rate      float64 `json:"rate"`
	Round     int     `json:"round"`
	Sent      int     `json:"sent"`
	OK        int     `json:"ok"`
	Failed    int     `json:"failed"`
	Missing   int     `json:"missing_replies"`
	Achieved  float64 `json:"achieved_rate"`
	HTTPP50   float64 `json:"http_p50_ms"`
	HTTPP99   float64 `json:"http_p99_ms"`
	E2EP50    float64 `json:"e2e_p50_ms"`
	E2EP99    float64 `json:"e2e_p99_ms"`
	SystemCPU float64 `json:"system_cpu_us"`
}

// drainRun is one round of the drain: records/s of the worker (from its start, and
// from its first reply to its last), of the sarama pipe (steady) and of
// ConsumerPerformance (whole run, and fetching alone).
type drainRun struct {
	Round             int     `json:"round"`
	Records           int     `json:"records"`
	Worker            float64 `json:"worker_records_per_s"`
	WorkerSteady      float64 `json:"worker_steady_records_per_s"`
	WorkerCPU         float64 `json:"worker_cpu_us_per_record"`
	WorkerQuiet       float64 `json:"worker_logs_warn_records_per_s"`
	WorkerQuietSteady float64 `json:"worker_logs_warn_steady_records_per_s"`
	WorkerQuietCPU    float64 `json:"worker_logs_warn_cpu_us_per_record"`
	Baseline          float64 `json:"baseline_worker_records_per_s,omitempty"`
	BaselineSteady    float64 `json:"baseline_worker_steady_records_per_s,omitempty"`
	BaselineCPU       float64 `json:"baseline_worker_cpu_us_per_record,omitempty"`
	ExactlyOnce       float64 `json:"exactly_once_worker_records_per_s,omitempty"`
	ExactlyOnceSteady float64 `json:"exactly_once_worker_steady_records_per_s,omitempty"`
	ExactlyOnceCPU    float64 `json:"exactly_once_worker_cpu_us_per_record,omitempty"`
	Pipe              float64 `json:"sarama_pipe_steady_records_per_s"`
	PipeCPU           float64 `json:"sarama_pipe_cpu_us_per_record"`
	ConsumerPerf      float64 `json:"consumer_perf_records_per_s"`
	ConsumerPerfFetch float64 `json:"consumer_perf_fetch_records_per_s"`
}

func describe(o options) map[string]string {
	return map[string]string{
		"duration": o.duration.String(), "warmup": o.warmup.String(), "rounds": fmt.Sprint(o.rounds),
		"concurrency": fmt.Sprint(o.concurrency), "rates": fmt.Sprint(o.rates), "backlog": fmt.Sprint(o.backlog),
		"py_workers": fmt.Sprint(o.pyWorkers), "smoke": fmt.Sprint(o.smoke), "baseline": o.baseline, "exactly_once": fmt.Sprint(o.exactlyOnce), "started": time.Now().UTC().Format(time.RFC3339),
	}
}

// spread is the median and range of values over rounds.
type spread struct{ median, low, high float64 }

func spreadOf(values []float64) spread {
	if len(values) == 0 {
		return spread{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	mid := s[len(s)/2]
	if len(s)%2 == 0 {
		mid = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{mid, s[0], s[len(s)-1]}
}

// format prints the median and, over several rounds, the range; -1 (beyond the run)
// as "-".
func (s spread) format(decimals int) string {
	if math.IsNaN(s.median) {
		return "n/a"
	}
	f := func(v float64) string {
		if v < 0 {
			return "-"
		}
		return fmt.Sprintf("%.*f", decimals, v)
	}
	if s.low == s.high {
		return f(s.median)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.median), f(s.low), f(s.high))
}

func collect[T any](runs []T, keep func(T) bool, value func(T) float64) spread {
	var v []float64
	for _, r := range runs {
		if keep(r) {
			v = append(v, value(r))
		}
	}
	return spreadOf(v)
}

func uniq[T any, K comparable](runs []T, key func(T) K) []K {
	var out []K
	for _, r := range runs {
		if k := key(r); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func (r *results) markdown(w io.Writer) {
	fmt.Fprintf(w, "Load average (1, 5, 15 min) before: %s, after: %s. Median over rounds, (min–max) when they differ.\n\n", r.LoadBefore, r.LoadAfter)
	if len(r.Closed) > 0 {
		fmt.Fprintf(w, "**Gateway, closed loop** (%s clients, %s per round, %s rounds)\n\n", r.Options["concurrency"], r.Options["duration"], r.Options["rounds"])
		fmt.Fprintln(w, "| variant | req/s | p50 ms | p99 ms | CPU µs/req (serving) | CPU µs/req (with consumer) | log bytes/req |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
		for _, v := range uniq(r.Closed, func(c closedRun) string { return c.Variant }) {
			is := func(c closedRun) bool { return c.Variant == v }
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", v,
				collect(r.Closed, is, func(c closedRun) float64 { return c.Rate }).format(0),
				collect(r.Closed, is, func(c closedRun) float64 { return c.P50 }).format(2),
				collect(r.Closed, is, func(c closedRun) float64 { return c.P99 }).format(2),
				collect(r.Closed, is, func(c closedRun) float64 { return c.ServingCPU }).format(1),
				collect(r.Closed, is, func(c closedRun) float64 { return c.SystemCPU }).format(1),
				collect(r.Closed, is, func(c closedRun) float64 { return c.LogBytes }).format(0))
		}
		fmt.Fprintln(w)
	}
	if len(r.Open) > 0 {
		fmt.Fprintf(w, "**End to end, open loop** (%s per round; latency from the scheduled send; e2e: to the reply on the out-topic; - = not within the run)\n\n", r.Options["duration"])
		fmt.Fprintln(w, "| system | rate/s | achieved/s | HTTP p50 ms | HTTP p99 ms | e2e p50 ms | e2e p99 ms | replies missing | CPU µs/req (all processes) |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
		type key struct {
			rate   float64
			system string
		}
		for _, k := range uniq(r.Open, func(o openRun) key { return key{o.Rate, o.System} }) {
			is := func(o openRun) bool { return o.Rate == k.rate && o.System == k.system }
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", k.system, k.rate,
				collect(r.Open, is, func(o openRun) float64 { return o.Achieved }).format(0),
				collect(r.Open, is, func(o openRun) float64 { return o.HTTPP50 }).format(2),
				collect(r.Open, is, func(o openRun) float64 { return o.HTTPP99 }).format(2),
				collect(r.Open, is, func(o openRun) float64 { return o.E2EP50 }).format(1),
				collect(r.Open, is, func(o openRun) float64 { return o.E2EP99 }).format(1),
				collect(r.Open, is, func(o openRun) float64 { return float64(o.Missing + o.Failed) }).format(0),
				collect(r.Open, is, func(o openRun) float64 { return o.SystemCPU }).format(0))
		}
		fmt.Fprintln(w)
	}
	if len(r.Drain) > 0 {
		all := func(drainRun) bool { return true }
		fmt.Fprintf(w, "**Worker drain** (a backlog of %d requests, 3 partitions)\n\n", r.Drain[0].Records)
		fmt.Fprintln(w, "| consumer | records/s (whole run) | records/s (steady) | CPU µs/record |")
		fmt.Fprintln(w, "| --- | --- | --- | --- |")
		fmt.Fprintf(w, "| streamgate worker (consume, reply acks=all, commit) | %s | %s | %s |\n",
			collect(r.Drain, all, func(d drainRun) float64 { return d.Worker }).format(0),
			collect(r.Drain, all, func(d drainRun) float64 { return d.WorkerSteady }).format(0),
			collect(r.Drain, all, func(d drainRun) float64 { return d.WorkerCPU }).format(1))
		fmt.Fprintf(w, "| the same, logs at warn | %s | %s | %s |\n",
			collect(r.Drain, all, func(d drainRun) float64 { return d.WorkerQuiet }).format(0),
			collect(r.Drain, all, func(d drainRun) float64 { return d.WorkerQuietSteady }).format(0),
			collect(r.Drain, all, func(d drainRun) float64 { return d.WorkerQuietCPU }).format(1))
		if r.Drain[0].ExactlyOnceSteady > 0 {
			fmt.Fprintf(w, "| the same with DELIVERY=exactly-once (consume, reply and offsets in transactions) | %s | %s | %s |\n",
				collect(r.Drain, all, func(d drainRun) float64 { return d.ExactlyOnce }).format(0),
				collect(r.Drain, all, func(d drainRun) float64 { return d.ExactlyOnceSteady }).format(0),
				collect(r.Drain, all, func(d drainRun) float64 { return d.ExactlyOnceCPU }).format(1))
		}
		if r.Drain[0].BaselineSteady > 0 {
			fmt.Fprintf(w, "| baseline %s: worker, logs info | %s | %s | %s |\n", r.Options["baseline"],
				collect(r.Drain, all, func(d drainRun) float64 { return d.Baseline }).format(0),
				collect(r.Drain, all, func(d drainRun) float64 { return d.BaselineSteady }).format(0),
				collect(r.Drain, all, func(d drainRun) float64 { return d.BaselineCPU }).format(1))
		}
		fmt.Fprintf(w, "| sarama pipe: consume, produce acks=all, nothing else (the floor of a sarama worker) | | %s | %s |\n",
			collect(r.Drain, all, func(d drainRun) float64 { return d.Pipe }).format(0),
			collect(r.Drain, all, func(d drainRun) float64 { return d.PipeCPU }).format(1))
		fmt.Fprintf(w, "| Kafka ConsumerPerformance (consume only) | %s | %s (fetch) | |\n\n",
			collect(r.Drain, all, func(d drainRun) float64 { return d.ConsumerPerf }).format(0),
			collect(r.Drain, all, func(d drainRun) float64 { return d.ConsumerPerfFetch }).format(0))
	}
	if len(r.Hops) > 0 {
		fmt.Fprintf(w, "**One broker hop** (producer acks=all → consumer, %d records one at a time, each sent once the last was read; EndToEndLatency prints whole ms, rounded down)\n\n", r.Hops[0].Records)
		fmt.Fprintln(w, "| client | avg ms | p50 ms | p99 ms | p99.9 ms |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
		for _, client := range uniq(r.Hops, func(h hopRun) string { return h.Client }) {
			is := func(h hopRun) bool { return h.Client == client }
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", client,
				collect(r.Hops, is, func(h hopRun) float64 { return h.Avg }).format(2),
				collect(r.Hops, is, func(h hopRun) float64 { return h.P50 }).format(2),
				collect(r.Hops, is, func(h hopRun) float64 { return h.P99 }).format(2),
				collect(r.Hops, is, func(h hopRun) float64 { return h.P999 }).format(2))
		}
		fmt.Fprintln(w)
	}
	r.targets(w)
}

// paired returns, per round, f of the two runs a and b picked in that round.
func paired[T any](runs []T, round func(T) int, a, b func(T) bool, f func(x, y T) float64) []float64 {
	var out []float64
	for _, rd := range uniq(runs, round) {
		var x, y *T
		for i := range runs {
			if round(runs[i]) != rd {
				continue
			}
			if a(runs[i]) {
				x = &runs[i]
			} else if b(runs[i]) {
				y = &runs[i]
			}
		}
		if x != nil && y != nil {
			out = append(out, f(*x, *y))
		}
	}
	return out
}

// pairedHops returns, per round, f of that round's lowest hop p99 (over the clients)
// and the open-loop run picked in it.
func pairedHops(hops []hopRun, runs []openRun, pick func(openRun) bool, f func(float64, openRun) float64) []float64 {
	var out []float64
	for _, round := range uniq(hops, func(h hopRun) int { return h.Round }) {
		fastest := math.Inf(1)
		for _, h := range hops {
			if h.Round == round {
				fastest = math.Min(fastest, h.P99)
			}
		}
		for _, o := range runs {
			if o.Round == round && pick(o) {
				out = append(out, f(fastest, o))
			}
		}
	}
	return out
}

func ratio(x, y float64) float64 {
	if x < 0 || y <= 0 {
		return math.NaN()
	}
	return x / y
}

func verdict(s spread, ok func(float64) bool) string {
	if math.IsNaN(s.median) {
		return "not measured"
	}
	if ok(s.median) {
		return "met"
	}
	return "NOT met"
}

func (r *results) targets(w io.Writer) {
	const gw, gwOff = "gateway, Kafka on, logs info", "gateway, Kafka off, logs info"
	closedRound := func(c closedRun) int { return c.Round }
	variant := func(name string) func(closedRun) bool { return func(c closedRun) bool { return c.Variant == name } }
	python := func(c closedRun) bool { return c.System == systemPython }
	fmt.Fprintln(w, "**Paired ratios and the issue's targets** (per round, then median and range)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measure | value | target | |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	gwCPU := collect(r.Closed, variant(gw), func(c closedRun) float64 { return c.ServingCPU })
	fmt.Fprintf(w, "| gateway CPU/request, default logging (µs) | %s | ≤ 50 | %s |\n", gwCPU.format(1), verdict(gwCPU, func(v float64) bool { return v <= 50 }))
	publish := spreadOf(paired(r.Closed, closedRound, variant(gw), variant(gwOff), func(x, y closedRun) float64 { return x.ServingCPU - y.ServingCPU }))
	fmt.Fprintf(w, "| publish path: Kafka on − off, logs info (µs/request) | %s | ≤ 25 | %s |\n", publish.format(1), verdict(publish, func(v float64) bool { return v <= 25 }))
	for _, v := range uniq(r.Closed, func(c closedRun) string { return c.Variant }) {
		if strings.HasPrefix(v, "baseline ") {
			after := spreadOf(paired(r.Closed, closedRound, variant(gw), variant(v), func(x, y closedRun) float64 { return ratio(x.ServingCPU, y.ServingCPU) }))
			fmt.Fprintf(w, "| gateway CPU/request ÷ %s's | %s | | |\n", strings.TrimSuffix(v, ": "+gw), after.format(3))
		}
	}
	sysRatio := spreadOf(paired(r.Closed, closedRound, variant(gw), python, func(x, y closedRun) float64 { return ratio(x.SystemCPU, y.SystemCPU) }))
	fmt.Fprintf(w, "| gateway+worker CPU/request ÷ Python's, closed loop | %s | ≤ 0.10 | %s |\n", sysRatio.format(3), verdict(sysRatio, func(v float64) bool { return v <= 0.1 }))
	rps := spreadOf(paired(r.Closed, closedRound, variant(gw), python, func(x, y closedRun) float64 { return ratio(x.Rate, y.Rate) }))
	fmt.Fprintf(w, "| req/s ÷ Python's, closed loop | %s | | |\n", rps.format(2))
	openRound := func(o openRun) int { return o.Round }
	for _, rate := range uniq(r.Open, func(o openRun) float64 { return o.Rate }) {
		goAt := func(o openRun) bool { return o.Rate == rate && o.System == systemGo }
		pyAt := func(o openRun) bool { return o.Rate == rate && o.System == systemPython }
		p99 := spreadOf(paired(r.Open, openRound, goAt, pyAt, func(x, y openRun) float64 { return ratio(x.E2EP99, y.E2EP99) }))
		target, met := "", ""
		if rate == 200 {
			target, met = "≤ 0.20", verdict(p99, func(v float64) bool { return v <= 0.2 })
		}
		fmt.Fprintf(w, "| e2e p99 ÷ Python's at %.0f/s | %s | %s | %s |\n", rate, p99.format(3), target, met)
		eosAt := func(o openRun) bool { return o.Rate == rate && o.System == systemGoExactlyOnce }
		if eos := spreadOf(paired(r.Open, openRound, eosAt, goAt, func(x, y openRun) float64 { return ratio(x.E2EP99, y.E2EP99) })); !math.IsNaN(eos.median) {
			target, met := "", ""
			if rate == 200 {
				target, met = "≤ 2", verdict(eos, func(v float64) bool { return v <= 2 })
			}
			fmt.Fprintf(w, "| e2e p99, DELIVERY=exactly-once ÷ at-least-once at %.0f/s | %s | %s | %s |\n", rate, eos.format(2), target, met)
		}
		noLingerAt := func(o openRun) bool { return o.Rate == rate && o.System == systemGoNoLinger }
		if noLinger := spreadOf(paired(r.Open, openRound, noLingerAt, pyAt, func(x, y openRun) float64 { return ratio(x.E2EP99, y.E2EP99) })); !math.IsNaN(noLinger.median) {
			fmt.Fprintf(w, "| the same with KAFKA_LINGER=0 | %s | | |\n", noLinger.format(3))
		}
		if rate == 200 && len(r.Hops) > 0 {
			// A request and its reply cross the broker twice, one after the other, so the
			// end-to-end p99 is at least one hop's p99.
			floor := spreadOf(pairedHops(r.Hops, r.Open, pyAt, func(fastest float64, o openRun) float64 { return ratio(fastest, o.E2EP99) }))
			fmt.Fprintf(w, "| one broker hop's p99 (the faster client's) ÷ Python's e2e p99 at %.0f/s | %s | | a floor: a request-reply makes two hops |\n", rate, floor.format(3))
		}
		// The CPU target is the saturation figure (the closed loop above); at a
		// fixed low rate nothing is batched and each request pays its own wake-ups.
		cpu := spreadOf(paired(r.Open, openRound, goAt, pyAt, func(x, y openRun) float64 { return ratio(x.SystemCPU, y.SystemCPU) }))
		fmt.Fprintf(w, "| gateway+worker CPU/request ÷ Python's at %.0f/s | %s | (set at saturation, above) | |\n", rate, cpu.format(3))
	}
	if len(r.Drain) > 0 {
		drain := func(f func(drainRun) float64) spread {
			var v []float64
			for _, run := range r.Drain {
				v = append(v, f(run))
			}
			return spreadOf(v)
		}
		atLeastHalf := func(v float64) bool { return v >= 0.5 }
		whole := drain(func(d drainRun) float64 { return ratio(d.Worker, d.ConsumerPerf) })
		fmt.Fprintf(w, "| worker drain ÷ ConsumerPerformance, whole runs (start to last record) | %s | ≥ 0.5 | %s |\n", whole.format(2), verdict(whole, atLeastHalf))
		steady := drain(func(d drainRun) float64 { return ratio(d.WorkerSteady, d.ConsumerPerfFetch) })
		fmt.Fprintf(w, "| worker drain ÷ ConsumerPerformance, after joining (steady ÷ fetch) | %s | ≥ 0.5 | %s |\n", steady.format(2), verdict(steady, atLeastHalf))
		quiet := drain(func(d drainRun) float64 { return ratio(d.WorkerQuietSteady, d.ConsumerPerfFetch) })
		fmt.Fprintf(w, "| the same, worker logs at warn | %s | | |\n", quiet.format(2))
		if r.Drain[0].ExactlyOnceSteady > 0 {
			eos := drain(func(d drainRun) float64 { return ratio(d.ExactlyOnceSteady, d.WorkerSteady) })
			fmt.Fprintf(w, "| worker drain, DELIVERY=exactly-once ÷ at-least-once (steady) | %s | ≥ 0.5 | %s |\n", eos.format(2), verdict(eos, atLeastHalf))
		}
		if r.Drain[0].BaselineSteady > 0 {
			after := drain(func(d drainRun) float64 { return ratio(d.WorkerSteady, d.BaselineSteady) })
			fmt.Fprintf(w, "| worker drain ÷ baseline %s's (steady) | %s | | |\n", r.Options["baseline"], after.format(2))
		}
		if r.Drain[0].Pipe > 0 {
			pipe := drain(func(d drainRun) float64 { return ratio(d.Pipe, d.ConsumerPerfFetch) })
			fmt.Fprintf(w, "| sarama pipe ÷ ConsumerPerformance (steady ÷ fetch) | %s | | the ceiling of a sarama worker |\n", pipe.format(2))
			of := drain(func(d drainRun) float64 { return ratio(d.WorkerSteady, d.Pipe) })
			fmt.Fprintf(w, "| worker ÷ sarama pipe (steady) | %s | | |\n", of.format(2))
		}
	}
	fmt.Fprintln(w)
}

// report prints the table and writes results.json, results.md and the plots.
func (b *bench) report() error {
	r := b.results
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.o.out, "results.json"), raw, 0o644); err != nil {
		return err
	}
	var md strings.Builder
	r.markdown(&md)
	if err := os.WriteFile(filepath.Join(b.o.out, "results.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(md.String())
	if b.python == "" {
		return nil
	}
	plot := exec.Command(b.python, filepath.Join(b.o.root, "tests/bench/python/plot.py"),
		filepath.Join(b.o.out, "results.json"), b.o.out)
	if out, err := plot.CombinedOutput(); err != nil {
		return fmt.Errorf("plots: %w\n%s", err, out)
	}
	logf("wrote %s/{results.json,results.md,*.png}", b.o.out)
	return nil
}
