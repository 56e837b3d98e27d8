// Command streambench measures streamgate against the Python original it ports
// (FastAPI + FastStream under uvicorn, tests/bench/python) on a real Kafka, on loopback:
//
//   - gateway: req/s and latency at a fixed concurrency (closed loop) and CPU per
//     request from /proc, with Kafka on and off, logs at info and at warn;
//   - end to end: latency from each request's scheduled send time to its reply on the
//     out-topic, at fixed request rates (open loop: no coordinated omission), with the
//     CPU both sides spent per request;
//   - the worker draining a backlog, next to Kafka's own ConsumerPerformance.
//
// Rounds alternate between the variants, every backlog is drained before a
// measurement, and the table shows the median with the spread over rounds and the
// ratios of each round's pairs. It prints a Markdown table and writes results.json,
// results.md and PNG plots into -out. Everything it starts it stops; -timeout bounds the
// whole run.
//
// From the repository root (make bench does this):
//
//	go run ./tests/bench/cmd/streambench -out bin/bench
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	root        string
	out         string
	kafka       string // an existing broker; "" starts one with full-JIT settings
	smoke       bool
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	concurrency int
	rates       []float64
	backlog     int
	pyWorkers   int
	drainWait   time.Duration
	profile     bool
	timeout     time.Duration
	python      bool
	baseline    string
	exactlyOnce bool
	drainOnly   bool
}

func main() {
	var o options
	var rates string
	flag.StringVar(&o.root, "root", ".", "repository root")
	flag.StringVar(&o.out, "out", "bin/bench", "directory for results.json, results.md, the plots and profiles")
	flag.StringVar(&o.kafka, "kafka", "", "use this broker (host:port) instead of starting one with full-JIT settings")
	flag.BoolVar(&o.smoke, "smoke", false, "tiny durations and backlog: checks the harness works, measures nothing")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each measured load")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load per variant before the rounds (JIT, connections)")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each measures every variant once, in a rotated order")
	flag.IntVar(&o.concurrency, "concurrency", 32, "clients of the closed loop")
	flag.StringVar(&rates, "rates", "200,1000", "request rates of the open loop, per second")
	flag.IntVar(&o.backlog, "backlog", 1000000, "records the worker and ConsumerPerformance drain")
	flag.IntVar(&o.pyWorkers, "py-workers", 2, "uvicorn worker processes of the Python original")
	flag.DurationVar(&o.drainWait, "drain-timeout", 90*time.Second, "how long a backlog may take to drain before a round")
	flag.BoolVar(&o.profile, "profile", false, "also take CPU and allocation profiles of the gateway under load")
	flag.BoolVar(&o.python, "python", true, "measure the Python original too")
	flag.StringVar(&o.baseline, "baseline", "", "also measure the gateway (closed loop, Kafka on, logs info) and the worker (drain, logs info) built from this git revision: before and after in one run")
	flag.BoolVar(&o.drainOnly, "drain-only", false, "measure only the worker drain (and, with -profile, profile it): for iterating on the worker")
	flag.BoolVar(&o.exactlyOnce, "exactly-once", true, "also measure the worker with DELIVERY=exactly-once: end to end and drain, next to at-least-once")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "bound on the whole run")
	flag.Parse()
	if o.smoke {
		o.duration, o.warmup, o.rounds, o.backlog, o.pyWorkers = 500*time.Millisecond, 500*time.Millisecond, 1, 2000, 1
		o.concurrency = 4
		rates = "50"
		o.drainWait = 30 * time.Second
		o.timeout = min(o.timeout, 10*time.Minute)
	}
	for _, r := range strings.Split(rates, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "streambench: -rates %q: %q is not a positive number\n", rates, r)
			os.Exit(2)
		}
		o.rates = append(o.rates, v)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "streambench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	root, err := filepath.Abs(o.root)
	if err != nil {
		return err
	}
	o.root = root
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "streambench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	logf("building gateway and worker")
	bins, err := build(ctx, root, work, o.profile)
	if err != nil {
		return err
	}
	if o.baseline != "" {
		logf("building the services at %s", o.baseline)
		if bins.baselineGateway, bins.baselineWorker, err = buildBaseline(ctx, root, work, o.baseline); err != nil {
			return err
		}
	}
	var python string
	if o.python {
		logf("preparing the Python original's venv (cached)")
		if python, err = pythonVenv(ctx, root); err != nil {
			return err
		}
	}
	classpath, err := kafkaTools(ctx, root)
	if err != nil {
		return err
	}
	addr := o.kafka
	if addr == "" {
		logf("starting Kafka with full-JIT settings")
		b, err := startBroker(root)
		if err != nil {
			return err
		}
		defer b.Clean()
		addr = b.Addr
	}
	c, err := dialCluster(addr)
	if err != nil {
		return err
	}
	defer c.Close()

	b := &bench{o: o, c: c, bins: bins, python: python, classpath: classpath, results: &results{Options: describe(o)}}
	b.results.LoadBefore = loadAverage()
	runErr := b.run(ctx)
	b.results.LoadAfter = loadAverage()
	if runErr != nil && !errors.Is(runErr, errStopped) {
		return runErr
	}
	return b.report()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[streambench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// loadAverage is the first line of /proc/loadavg: how busy the machine was.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
