package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamgate/streamgate/tests/bench/backlog"
	"github.com/streamgate/streamgate/tests/bench/loadgen"

	"github.com/streamgate/streamgate/tests/internal/testkit"
)

const (
	systemGo = "streamgate"
	// systemGoNoLinger is streamgate with KAFKA_LINGER=0: the gateway's producer sends
	// each record at once instead of batching what arrives within 1ms.
	systemGoNoLinger = "streamgate, KAFKA_LINGER=0"
	systemPython     = "python"
	// systemGoExactlyOnce is streamgate with the worker's DELIVERY=exactly-once.
	systemGoExactlyOnce = "streamgate, DELIVERY=exactly-once"
)

// variant is one server the HTTP load goes to.
type variant struct {
	name    string
	system  string
	kafka   bool
	url     string
	serving *process    // the gateway, or uvicorn with its workers
	worker  *process    // the Go worker consuming what serving publishes; nil when there is none
	in, out string      // where serving publishes and where replies go ("" with Kafka off)
	replies *replyWatch // reads out for the open loop, from before its first round
}

// processes is what the system spends CPU in: the serving process and its worker.
func (v *variant) processes() []*process {
	if v.worker == nil {
		return []*process{v.serving}
	}
	return []*process{v.serving, v.worker}
}

type bench struct {
	o         options
	c         *cluster
	bins      binaries
	python    string // the venv's interpreter, "" without -python
	classpath string
	results   *results
	id        string
	procs     []*process
	variants  []*variant
	pprofAddr string
}

func (b *bench) run(ctx context.Context) error {
	var raw [3]byte
	_, _ = rand.Read(raw[:])
	b.id = hex.EncodeToString(raw[:])
	defer b.stopAll()
	if b.o.drainOnly {
		return b.drain(ctx)
	}
	if err := b.startServices(ctx); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{b.warmUp, b.closedLoop, b.openLoop, b.brokerHops, b.profile} {
		if err := step(ctx); err != nil {
			return err
		}
		if err := b.checkAlive(); err != nil {
			return err
		}
	}
	b.stopAll()
	return b.drain(ctx)
}

func (b *bench) topic(name string) string { return "bench-" + name + "-" + b.id }

func (b *bench) start(name string, env []string, dir string, argv ...string) (*process, error) {
	p, err := startProcess(name, env, dir, argv...)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	return p, nil
}

func (b *bench) stopAll() {
	for _, p := range b.procs {
		p.stop(20 * time.Second)
	}
	b.procs = nil
}

func (b *bench) checkAlive() error {
	for _, p := range b.procs {
		if p.exited() {
			return p.failure()
		}
	}
	return nil
}

func (b *bench) goEnv(httpAddr string) ([]string, error) {
	metricsAddr, err := testkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	return []string{
		"HTTP_ADDR=" + httpAddr, "METRICS_ADDR=" + metricsAddr, "KAFKA_BROKERS=" + b.c.brokers[0],
		"APP_VERSION=bench", "LOG_FORMAT=json", "OTEL_TRACES_EXPORTER=none",
	}, nil
}

// workerRun is one run of a worker binary: bin, named name in the logs, from in to out
// as group, logging at level, with extra variables added to its environment.
type workerRun struct {
	bin, name, level string
	in, out, group   string
	extra            []string
}

// startWorker starts w and waits for its /healthz.
func (b *bench) startWorker(ctx context.Context, w workerRun) (*process, error) {
	addr, err := testkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	env, err := b.goEnv(addr)
	if err != nil {
		return nil, err
	}
	env = append(env, "LOG_LEVEL="+w.level, "KAFKA_IN_TOPIC="+w.in, "KAFKA_OUT_TOPIC="+w.out,
		"KAFKA_DLQ_TOPIC="+w.in+".dlq", "KAFKA_GROUP_ID="+w.group)
	env = append(env, w.extra...)
	p, err := b.start(w.name, env, "", w.bin)
	if err != nil {
		return nil, err
	}
	return p, p.waitHTTP(ctx, "http://"+addr+"/healthz", time.Minute)
}

func (b *bench) startServices(ctx context.Context) error {
	goIn, goOut := b.topic("go-in"), b.topic("go-out")
	pyIn, pyOut := b.topic("py-in"), b.topic("py-out")
	if err := b.c.createTopics(goIn, goOut, goIn+".dlq", pyIn, pyOut); err != nil {
		return err
	}
	worker, err := b.startWorker(ctx, workerRun{bin: b.bins.worker, name: "worker", level: "info", in: goIn, out: goOut, group: b.topic("worker")})
	if err != nil {
		return err
	}
	type gateway struct {
		kafka              bool
		level, bin, linger string // linger "": the default
	}
	gateways := []gateway{
		{true, "info", b.bins.gateway, ""}, {true, "warn", b.bins.gateway, ""},
		{false, "info", b.bins.gateway, ""}, {false, "warn", b.bins.gateway, ""},
		{true, "info", b.bins.gateway, "0"},
	}
	if b.bins.baselineGateway != "" {
		gateways = append(gateways, gateway{true, "info", b.bins.baselineGateway, ""})
	}
	for _, g := range gateways {
		addr, err := testkit.FreeAddr()
		if err != nil {
			return err
		}
		env, err := b.goEnv(addr)
		if err != nil {
			return err
		}
		env = append(env, "LOG_LEVEL="+g.level, "KAFKA_ENABLED="+strconv.FormatBool(g.kafka), "KAFKA_IN_TOPIC="+goIn)
		name := "gateway, Kafka off, logs " + g.level
		v := &variant{system: systemGo, kafka: g.kafka, url: "http://" + addr + "/v1/ping"}
		if g.kafka {
			name = "gateway, Kafka on, logs " + g.level
			if g.bin == b.bins.baselineGateway {
				name = "baseline " + b.o.baseline + ": " + name
			}
			if g.linger != "" {
				name += ", KAFKA_LINGER=" + g.linger
				v.system = systemGoNoLinger
				env = append(env, "KAFKA_LINGER="+g.linger)
			}
			v.worker, v.in, v.out = worker, goIn, goOut
			if b.o.profile && b.pprofAddr == "" {
				if b.pprofAddr, err = testkit.FreeAddr(); err != nil {
					return err
				}
				env = append(env, "PPROF_ADDR="+b.pprofAddr)
			}
		}
		v.name = name
		if v.serving, err = b.start(name, env, "", g.bin); err != nil {
			return err
		}
		if err := v.serving.waitHTTP(ctx, "http://"+addr+"/readyz", time.Minute); err != nil {
			return err
		}
		b.variants = append(b.variants, v)
	}
	if b.o.exactlyOnce {
		if err := b.startExactlyOnce(ctx); err != nil {
			return err
		}
	}
	if !b.o.python {
		return nil
	}
	port, err := testkit.FreePort()
	if err != nil {
		return err
	}
	env := []string{
		"FASTSTREAM_PROVIDER=" + b.c.brokers[0], "KAFKA_IN_TOPIC=" + pyIn, "KAFKA_OUT_TOPIC=" + pyOut,
		"KAFKA_GROUP_ID=" + b.topic("py-subscriber"), "APP_VERSION=bench", "PYTHONUNBUFFERED=1",
		"PYTHONPATH=" + filepath.Join(b.o.root, "tests/python"), // the original's models
	}
	name := "python, FastAPI + FastStream, uvicorn"
	py, err := b.start(name, env, filepath.Join(b.o.root, "tests/bench/python"),
		b.python, "-m", "uvicorn", "app:app", "--host", "127.0.0.1",
		"--port", strconv.Itoa(port), "--workers", strconv.Itoa(b.o.pyWorkers))
	if err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/ping", port)
	if err := py.waitHTTP(ctx, url, 2*time.Minute); err != nil {
		return err
	}
	b.variants = append(b.variants, &variant{name: name, system: systemPython, kafka: true, url: url, serving: py, in: pyIn, out: pyOut})
	return nil
}

// drained waits until v's consumer has answered everything v published.
func (b *bench) drained(ctx context.Context, v *variant) error {
	if !v.kafka {
		return nil
	}
	if err := b.c.waitDrained(ctx, v.in, v.out, b.o.drainWait); err != nil {
		return fmt.Errorf("%s: %w", v.name, err)
	}
	return nil
}

// warmUp loads every variant once, unmeasured, and checks that each answers 200 and
// (with Kafka) that its replies arrive.
func (b *bench) warmUp(ctx context.Context) error {
	for _, v := range b.variants {
		logf("warm-up: %s", v.name)
		client := loadgen.NewClient(b.o.concurrency)
		r := loadgen.Closed(ctx, client, loadgen.Target{URL: v.url, IDPrefix: "warm-" + b.id + "-"}, b.o.concurrency, b.o.warmup)
		client.CloseIdleConnections()
		if r.OK == 0 || r.Failed > 0 {
			return fmt.Errorf("warm-up of %s: %d answered, %d failed (first: %v)", v.name, r.OK, r.Failed, r.FirstErr)
		}
		if err := b.drained(ctx, v); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// rotate returns the variants in round r's order: each round starts one further along,
// so no variant always runs first (or right after the heaviest one).
func rotate[T any](items []T, r int) []T {
	out := make([]T, 0, len(items))
	for i := range items {
		out = append(out, items[(i+r)%len(items)])
	}
	return out
}

func cpuOf(ps []*process) time.Duration {
	var sum time.Duration
	for _, p := range ps {
		sum += p.cpu()
	}
	return sum
}

func perRequest(cpu time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(n)
}

func ms(d time.Duration) float64 {
	if d == loadgen.Missing {
		return -1
	}
	return float64(d.Microseconds()) / 1000
}

// closedLoop: every variant at a fixed concurrency, rounds alternating.
func (b *bench) closedLoop(ctx context.Context) error {
	for round := range b.o.rounds {
		for _, v := range rotate(b.variants, round) {
			if v.system == systemGoExactlyOnce {
				continue // the same gateway: only its worker differs
			}
			if err := b.drained(ctx, v); err != nil {
				return err
			}
			logf("closed loop, round %d/%d: %s", round+1, b.o.rounds, v.name)
			client := loadgen.NewClient(b.o.concurrency)
			servingBefore, systemBefore, logsBefore := v.serving.cpu(), cpuOf(v.processes()), v.serving.logBytes.Load()
			r := loadgen.Closed(ctx, client, loadgen.Target{URL: v.url, IDPrefix: fmt.Sprintf("closed-%s-%d-", b.id, round)}, b.o.concurrency, b.o.duration)
			servingCPU, logBytes := v.serving.cpu()-servingBefore, v.serving.logBytes.Load()-logsBefore
			client.CloseIdleConnections()
			if err := ctx.Err(); err != nil {
				return err
			}
			if r.Failed > 0 {
				return fmt.Errorf("%s: %d of %d requests failed (first: %v)", v.name, r.Failed, r.OK+r.Failed, r.FirstErr)
			}
			if err := b.drained(ctx, v); err != nil {
				return err
			}
			systemCPU := cpuOf(v.processes()) - systemBefore
			b.results.Closed = append(b.results.Closed, closedRun{
				Variant: v.name, System: v.system, Round: round, Requests: r.OK, Rate: r.Rate(),
				P50: ms(loadgen.Percentile(r.Latencies, 50)), P99: ms(loadgen.Percentile(r.Latencies, 99)),
				ServingCPU: perRequest(servingCPU, r.OK), SystemCPU: perRequest(systemCPU, r.OK),
				LogBytes: float64(logBytes) / float64(max(r.OK, 1)),
			})
		}
	}
	return nil
}

// e2eVariants are the systems compared end to end: the gateway as deployed (Kafka on,
// logs at info) with its worker, the same with KAFKA_LINGER=0, and the Python original.
func (b *bench) e2eVariants() []*variant {
	var out []*variant
	for _, v := range b.variants {
		if v.kafka && (v.system != systemGo || v == b.variants[0]) {
			out = append(out, v)
		}
	}
	return out
}

// openLoop: each system at each fixed rate, rounds alternating; latency from the
// scheduled send to the 200 and to the reply on the out-topic.
func (b *bench) openLoop(ctx context.Context) error {
	for _, v := range b.e2eVariants() {
		if err := b.watch(ctx, v); err != nil {
			return err
		}
		defer v.replies.stop()
	}
	for _, rate := range b.o.rates {
		for round := range b.o.rounds {
			for _, v := range rotate(b.e2eVariants(), round) {
				if err := b.drained(ctx, v); err != nil {
					return err
				}
				logf("open loop at %.0f/s, round %d/%d: %s", rate, round+1, b.o.rounds, v.name)
				run, err := b.openRun(ctx, v, rate, round)
				if err != nil {
					return err
				}
				// A smoke run is light load: every request must be answered and replied.
				if b.o.smoke && (run.Failed > 0 || run.Missing > 0) {
					return fmt.Errorf("%s at %.0f/s: %d failed, %d replies missing", v.name, rate, run.Failed, run.Missing)
				}
				b.results.Open = append(b.results.Open, run)
			}
		}
	}
	return nil
}

// watch starts reading v's replies and returns once one request's reply was read: a
// reader started with the load would miss the load's first replies while sarama
// subscribes its partitions and sends the first fetch, and add that delay to them.
func (b *bench) watch(ctx context.Context, v *variant) error {
	w, err := b.c.watchReplies(ctx, v.out)
	if err != nil {
		return err
	}
	v.replies = w
	client := loadgen.NewClient(1)
	defer client.CloseIdleConnections()
	id := "watch-" + b.id + "-"
	deadline := time.Now().Add(b.o.drainWait)
	for i := 0; ; i++ {
		if err := loadgen.Get(ctx, client, loadgen.Target{URL: v.url, IDPrefix: id}, i); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		for range 10 {
			if _, ok := w.at(id + strconv.Itoa(i)); ok {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no reply on %s within %v", v.name, v.out, b.o.drainWait)
		}
	}
}

func (b *bench) openRun(ctx context.Context, v *variant, rate float64, round int) (openRun, error) {
	client := loadgen.NewClient(4096)
	defer client.CloseIdleConnections()
	// The variant's index keeps the IDs of two variants that share an out-topic apart.
	prefix := fmt.Sprintf("open-%s-%d-%.0f-%d-", b.id, slices.Index(b.variants, v), rate, round)
	systemBefore := cpuOf(v.processes())
	r := loadgen.Open(ctx, client, loadgen.Target{URL: v.url, IDPrefix: prefix}, loadgen.OpenLoad{Rate: rate, Duration: b.o.duration, MaxInFlight: 4096})
	if err := ctx.Err(); err != nil {
		return openRun{}, err
	}
	// Wait (bounded) for every answered request's reply.
	deadline := time.Now().Add(b.o.drainWait)
	for time.Now().Before(deadline) {
		waiting := 0
		for i, at := range r.Answered {
			if _, ok := v.replies.at(prefix + strconv.Itoa(i)); !ok && !at.IsZero() {
				waiting++
			}
		}
		if waiting == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return openRun{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	systemCPU := cpuOf(v.processes()) - systemBefore
	e2e := make([]time.Duration, 0, len(r.Scheduled))
	missing := 0
	for i, at := range r.Scheduled {
		if r.Answered[i].IsZero() {
			e2e = append(e2e, loadgen.Missing)
			continue
		}
		replied, ok := v.replies.at(prefix + strconv.Itoa(i))
		if !ok {
			missing++
			e2e = append(e2e, loadgen.Missing)
			continue
		}
		e2e = append(e2e, replied.Sub(at))
	}
	return openRun{
		System: v.system, Variant: v.name, Rate: rate, Round: round, Sent: len(r.Scheduled), OK: r.OK, Failed: r.Failed,
		Missing: missing, Achieved: r.Rate(),
		HTTPP50: ms(loadgen.Percentile(r.Latencies, 50)), HTTPP99: ms(loadgen.Percentile(r.Latencies, 99)),
		E2EP50: ms(loadgen.Percentile(e2e, 50)), E2EP99: ms(loadgen.Percentile(e2e, 99)),
		SystemCPU: perRequest(systemCPU, r.OK),
	}, nil
}

// brokerHops measures one produce → consume hop through the broker, with Kafka's own
// clients and with sarama, each round: the floor under both systems' end-to-end
// latency.
func (b *bench) brokerHops(ctx context.Context) error {
	records := hopRecords
	if b.o.smoke {
		records = 50
	}
	for round := range b.o.rounds {
		for _, measure := range []func(context.Context, int, int) (hopRun, error){b.kafkaHop, b.saramaHop} {
			hop, err := measure(ctx, round, records)
			if err != nil {
				return err
			}
			b.results.Hops = append(b.results.Hops, hop)
		}
	}
	return nil
}

// drain measures the worker, the sarama pipe and ConsumerPerformance on one backlog:
// each round the worker and the pipe (fresh group, fresh out-topic) answer all of it,
// and ConsumerPerformance (fresh group) reads all of it, in alternating order.
func (b *bench) drain(ctx context.Context) error {
	in := b.topic("backlog")
	if err := b.c.createTopics(in, in+".dlq"); err != nil {
		return err
	}
	logf("writing a backlog of %d requests", b.o.backlog)
	if err := backlog.Write(b.c.brokers, in, b.o.backlog, func(i int) string { return "backlog-" + strconv.Itoa(i) }); err != nil {
		return err
	}
	if err := b.warmDrain(ctx, in); err != nil {
		return err
	}
	for round := range b.o.rounds {
		run := drainRun{Round: round, Records: b.o.backlog}
		steps := []func() error{
			func() (err error) {
				run.Worker, run.WorkerSteady, run.WorkerCPU, err = b.drainWorker(ctx, drainedWorker{b.bins.worker, "logs info", "info"}, in, round)
				return err
			},
			func() (err error) {
				run.WorkerQuiet, run.WorkerQuietSteady, run.WorkerQuietCPU, err = b.drainWorker(ctx, drainedWorker{b.bins.worker, "logs warn", "warn"}, in, round)
				return err
			},
			func() (err error) {
				run.ConsumerPerf, run.ConsumerPerfFetch, err = b.consumerPerf(ctx, in, round)
				return err
			},
			func() (err error) {
				run.Pipe, run.PipeCPU, err = b.drainPipe(ctx, in, round)
				return err
			},
		}
		if b.o.exactlyOnce {
			steps = append(steps, func() (err error) {
				run.ExactlyOnce, run.ExactlyOnceSteady, run.ExactlyOnceCPU, err = b.drainWorker(ctx, drainedWorker{b.bins.worker, exactlyOnceLabel, "info"}, in, round)
				return err
			})
		}
		if b.bins.baselineWorker != "" {
			steps = append(steps, func() (err error) {
				run.Baseline, run.BaselineSteady, run.BaselineCPU, err = b.drainWorker(ctx, drainedWorker{b.bins.baselineWorker, "baseline", "info"}, in, round)
				return err
			})
		}
		for _, step := range rotate(steps, round) {
			if err := step(); err != nil {
				return err
			}
		}
		b.results.Drain = append(b.results.Drain, run)
	}
	return b.profileWorker(ctx, in)
}

// warmDrain drains the backlog once with the worker (and its exactly-once mode) and once
// with the pipe, unmeasured:
// a fresh full-JIT broker serves its first drains slower (the first round's worker
// drained at half the third's), which skewed whichever ran first.
func (b *bench) warmDrain(ctx context.Context, in string) error {
	if b.o.smoke {
		return nil
	}
	logf("drain warm-up (not measured)")
	if _, _, _, err := b.drainWorker(ctx, drainedWorker{b.bins.worker, "warm-up", "warn"}, in, b.o.rounds); err != nil {
		return err
	}
	if b.o.exactlyOnce { // the broker's transaction paths warm up too
		if _, _, _, err := b.drainWorker(ctx, drainedWorker{b.bins.worker, exactlyOnceLabel, "warn"}, in, b.o.rounds); err != nil {
			return err
		}
	}
	_, _, err := b.drainPipe(ctx, in, b.o.rounds)
	return err
}

// roundName names a drain round in the log; the round after the last is the warm-up.
func (b *bench) roundName(round int) string {
	if round == b.o.rounds {
		return "warm-up"
	}
	return fmt.Sprintf("round %d/%d", round+1, b.o.rounds)
}

// drainedWorker is the worker binary bin, named label in the results, logging at level.
type drainedWorker struct{ bin, label, level string }

// drainWorker measures dw answering the whole backlog in, in round.
func (b *bench) drainWorker(ctx context.Context, dw drainedWorker, in string, round int) (overall, steady, cpu float64, err error) {
	bin, label, level := dw.bin, dw.label, dw.level
	slug := strings.ReplaceAll(label, " ", "-")
	out, group := b.topic(fmt.Sprintf("drain-out-%s-%d", slug, round)), b.topic(fmt.Sprintf("drain-%s-%d", slug, round))
	if err := b.c.createTopics(out); err != nil {
		return 0, 0, 0, err
	}
	logf("drain, %s: worker, %s", b.roundName(round), label)
	began := time.Now()
	var extra []string
	if label == exactlyOnceLabel {
		extra = exactlyOnceEnv
	}
	p, err := b.startWorker(ctx, workerRun{bin: bin, name: "drain worker", level: level, in: in, out: out, group: group, extra: extra})
	if err != nil {
		return 0, 0, 0, err
	}
	defer p.stop(20 * time.Second)
	alive := func() error {
		if p.exited() {
			return p.failure()
		}
		return nil
	}
	var w written
	if label == exactlyOnceLabel {
		// The out-topic's offsets count commit markers too; the group's committed
		// offsets count what is answered and visible, as the transactions commit both.
		w, err = b.c.waitCommitted(ctx, group, in, until{n: b.o.backlog, timeout: b.o.drainWait, alive: alive})
	} else {
		w, err = b.c.waitWritten(ctx, out, until{n: b.o.backlog, timeout: b.o.drainWait, alive: alive})
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("worker: %w", err)
	}
	return float64(b.o.backlog) / w.last.Sub(began).Seconds(), w.steady(b.o.backlog), perRequest(p.cpu(), b.o.backlog), nil
}

// exactlyOnceLabel names the drain of the worker with exactlyOnceEnv (and its topics).
const exactlyOnceLabel = "exactly-once"

var exactlyOnceEnv = []string{"DELIVERY=exactly-once"}

// startExactlyOnce adds the variant whose worker delivers with DELIVERY=exactly-once
// (its defaults: 8,000 records per transaction, or 5 ms once nothing waits): a gateway
// as deployed (Kafka on, logs at info) publishing to topics of its own, compared end to
// end with the at-least-once one.
func (b *bench) startExactlyOnce(ctx context.Context) error {
	in, out := b.topic("go-eos-in"), b.topic("go-eos-out")
	if err := b.c.createTopics(in, out, in+".dlq"); err != nil {
		return err
	}
	worker, err := b.startWorker(ctx, workerRun{
		bin: b.bins.worker, name: "worker, DELIVERY=exactly-once", level: "info",
		in: in, out: out, group: b.topic("worker-eos"), extra: exactlyOnceEnv,
	})
	if err != nil {
		return err
	}
	addr, err := testkit.FreeAddr()
	if err != nil {
		return err
	}
	env, err := b.goEnv(addr)
	if err != nil {
		return err
	}
	env = append(env, "LOG_LEVEL=info", "KAFKA_ENABLED=true", "KAFKA_IN_TOPIC="+in)
	v := &variant{name: "gateway, Kafka on, logs info, worker DELIVERY=exactly-once", system: systemGoExactlyOnce, kafka: true,
		url: "http://" + addr + "/v1/ping", worker: worker, in: in, out: out}
	if v.serving, err = b.start(v.name, env, "", b.bins.gateway); err != nil {
		return err
	}
	if err := v.serving.waitHTTP(ctx, "http://"+addr+"/readyz", time.Minute); err != nil {
		return err
	}
	b.variants = append(b.variants, v)
	return nil
}
