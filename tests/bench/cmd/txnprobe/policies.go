package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/streamgate/streamgate/pkg/platform/kafka"
	"github.com/streamgate/streamgate/pkg/platform/kafka/transactional"
)

// policy writes each key it receives to out; it returns once keys is closed and all it
// wrote is acknowledged (and committed).
type policy struct {
	name  string
	write func(ctx context.Context, p *probeSetup, keys <-chan string) error
}

// probeSetup is what a probe writes with and reads by: the brokers, the topics, the
// consumed offsets its transactions commit (rising, as a worker's would), and what the
// read_committed reader of out has seen.
type probeSetup struct {
	brokers []string
	out, in string
	group   string
	suffix  string
	offset  int64
	seen    *sightings
}

// openLoad is -policies' load: n records gap apart per way and round.
type openLoad struct {
	n, rounds   int
	gap, window time.Duration
}

func (r *probeSetup) message(key string) *sarama.ProducerMessage {
	return &sarama.ProducerMessage{Topic: r.out, Key: sarama.StringEncoder(key), Value: sarama.StringEncoder("x")}
}

// nextOffsets is the consumed offset a transaction commits.
func (r *probeSetup) nextOffsets() map[string][]*sarama.PartitionOffsetMetadata {
	r.offset++
	return map[string][]*sarama.PartitionOffsetMetadata{r.in: {{Partition: 0, Offset: r.offset}}}
}

// producer starts an async producer with cfg; its results are counted until closeAll.
func (r *probeSetup) producer(cfg *sarama.Config) (*countedProducer, error) {
	p, err := sarama.NewAsyncProducer(r.brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	c := &countedProducer{AsyncProducer: p}
	c.changed = sync.NewCond(&c.mu)
	c.wg.Go(func() {
		for range p.Successes() {
			c.count(nil)
		}
	})
	c.wg.Go(func() {
		for perr := range p.Errors() {
			c.count(perr.Err)
		}
	})
	return c, nil
}

// countedProducer counts what it sent and the results it got back.
type countedProducer struct {
	sarama.AsyncProducer
	wg      sync.WaitGroup
	mu      sync.Mutex
	changed *sync.Cond
	sent    int
	results int
	failed  error
}

func (c *countedProducer) send(m *sarama.ProducerMessage) {
	c.Input() <- m
	c.mu.Lock()
	c.sent++
	c.mu.Unlock()
}

func (c *countedProducer) count(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.results++
	c.failed = errors.Join(c.failed, err)
	c.changed.Broadcast()
}

// acknowledged waits until everything sent so far has its result.
func (c *countedProducer) acknowledged() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.results < c.sent {
		c.changed.Wait()
	}
	return c.failed
}

func (c *countedProducer) closeAll() error {
	err := c.Close()
	c.wg.Wait()
	return errors.Join(c.failed, err)
}

func policies(window time.Duration) []policy {
	return []policy{
		{"at-least-once: the worker's idempotent producer, no transaction", writeAtLeastOnce},
		{fmt.Sprintf("one transactional producer: a transaction opens at a record, takes what arrives within %v, commits (the worker's at low rates)", window),
			func(ctx context.Context, r *probeSetup, keys <-chan string) error {
				return writeWindowed(ctx, r, keys, window)
			}},
		{"two transactional producers in turn: a record joins the open transaction at once; it commits as soon as the other's commit returned", writeDoubleBuffered},
	}
}

func writeAtLeastOnce(_ context.Context, r *probeSetup, keys <-chan string) error {
	p, err := r.producer(kafka.ProducerConfig("txnprobe-alo"))
	if err != nil {
		return err
	}
	for key := range keys {
		p.send(r.message(key))
	}
	return p.closeAll()
}

func writeWindowed(ctx context.Context, r *probeSetup, keys <-chan string, window time.Duration) error {
	p, err := r.producer(transactional.Config(kafka.ProducerConfig("txnprobe"), "txnprobe-one-"+r.suffix))
	if err != nil {
		return err
	}
	err = func() error {
		for key := range keys {
			if err := p.BeginTxn(); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
			p.send(r.message(key))
			due := time.NewTimer(window)
		fill:
			for {
				select {
				case key, ok := <-keys:
					if !ok {
						break fill
					}
					p.send(r.message(key))
				case <-due.C:
					break fill
				case <-ctx.Done():
					due.Stop()
					return ctx.Err()
				}
			}
			due.Stop()
			if err := commit(p, r.nextOffsets(), r.group); err != nil {
				return err
			}
		}
		return nil
	}()
	return errors.Join(err, p.closeAll())
}

// writeDoubleBuffered overlaps a transaction's commit with the next transaction on the
// other producer, within what keeps the worker's guarantees:
//   - the next transaction sends only once every output of the committing one is
//     acknowledged, so outputs stay in order in each partition (two producers' requests
//     in flight at once could be written in either order);
//   - it commits only once the previous commit returned, so the committed offsets never
//     go back, and an abort can take the later transaction down with it.
//
// It never waits for its own previous commit's markers (CONCURRENT_TRANSACTIONS),
// which a single producer's next transaction must.
func writeDoubleBuffered(ctx context.Context, r *probeSetup, keys <-chan string) error {
	var producers [2]*countedProducer
	for i := range producers {
		p, err := r.producer(transactional.Config(kafka.ProducerConfig("txnprobe"), fmt.Sprintf("txnprobe-two-%d-%s", i, r.suffix)))
		if err != nil {
			return err
		}
		defer func() { _ = p.closeAll() }()
		producers[i] = p
	}
	var commits sync.WaitGroup
	defer commits.Wait() // before the producers close
	current, open := 0, false
	var acknowledged, committed chan error // of the commit running, nil when none
	startCommit := func() {
		p, offsets := producers[current], r.nextOffsets()
		current, open = 1-current, false
		acknowledged, committed = make(chan error, 1), make(chan error, 1)
		ack, done := acknowledged, committed
		commits.Go(func() {
			err := p.acknowledged()
			ack <- err
			if err == nil {
				err = commit(p, offsets, r.group)
			}
			done <- err
		})
	}
	for keys != nil || open || committed != nil {
		// Keys wait in their channel, their arrival noted, while the committing
		// transaction's outputs are in flight.
		in := keys
		if committed != nil && acknowledged != nil {
			in = nil
		}
		select {
		case key, ok := <-in:
			if !ok {
				keys = nil
				break
			}
			if !open {
				if err := producers[current].BeginTxn(); err != nil {
					return fmt.Errorf("begin: %w", err)
				}
				open = true
			}
			producers[current].send(r.message(key))
		case err := <-acknowledged:
			if err != nil {
				return err
			}
			acknowledged = nil
			continue
		case err := <-committed:
			if err != nil {
				return err
			}
			committed = nil
		case <-ctx.Done():
			return ctx.Err()
		}
		if committed == nil && open {
			startCommit()
		}
	}
	return nil
}

func commit(p sarama.AsyncProducer, offsets map[string][]*sarama.PartitionOffsetMetadata, group string) error {
	if err := p.AddOffsetsToTxn(offsets, group); err != nil {
		return fmt.Errorf("add offsets: %w", err)
	}
	if err := p.CommitTxn(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// comparePolicies sends n keys gap apart (an open loop, as requests at a fixed rate
// reach a worker) through each policy, rounds times in turn, and prints how long from
// each key's arrival until the read_committed reader saw it.
func comparePolicies(ctx context.Context, r *probeSetup, load openLoad) error {
	all, n, seen := policies(load.window), load.n, r.seen
	latencies := make([][]time.Duration, len(all))
	for round := range load.rounds {
		for i, pol := range all {
			prefix := fmt.Sprintf("%d-%d-", round, i)
			arrived, err := arrive(ctx, r, pol, prefix, load)
			if err != nil {
				return fmt.Errorf("%s: %w", pol.name, err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for seen.count() < (round*len(all)+i+1)*(n+1) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			for key, at := range arrived {
				first, times := seen.of(key)
				if times != 1 {
					return fmt.Errorf("%s: record %s seen %d times by the read_committed reader, want once", pol.name, key, times)
				}
				latencies[i] = append(latencies[i], first.Sub(at))
			}
		}
	}
	fmt.Printf("%d records %v apart, %d rounds: from a record's arrival to a read_committed reader seeing it\n\n", n, load.gap, load.rounds)
	fmt.Println("| how it is written | p50 ms | p90 ms | p99 ms |")
	fmt.Println("| --- | --- | --- | --- |")
	for i, pol := range all {
		d := latencies[i]
		fmt.Printf("| %s | %.2f | %.2f | %.2f |\n", pol.name, quantile(d, 0.5), quantile(d, 0.9), quantile(d, 0.99))
	}
	return nil
}

// arrive hands pol a first key and waits until it is read (the producers connected and
// know the topic), then load.n keys, one every load.gap, and returns when each of those
// arrived.
func arrive(ctx context.Context, r *probeSetup, pol policy, prefix string, load openLoad) (map[string]time.Time, error) {
	n, gap := load.n, load.gap
	keys := make(chan string, n+1)
	written := make(chan error, 1)
	go func() { written <- pol.write(ctx, r, keys) }()
	first := prefix + "first"
	keys <- first
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, times := r.seen.of(first); times > 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			close(keys)
			return nil, errors.Join(fmt.Errorf("the first record was not read within 30s"), <-written)
		}
	}
	arrived := make(map[string]time.Time, n)
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * gap)))
		key := prefix + strconv.Itoa(i)
		arrived[key] = time.Now()
		keys <- key
	}
	close(keys)
	return arrived, <-written
}
