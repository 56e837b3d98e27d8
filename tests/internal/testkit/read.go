package testkit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/IBM/sarama"
)

// fetchBytes bounds one partition's part of a fetch; a batch larger than this
// is an error (the services cap their records far below it).
const fetchBytes = 16 << 20

// ReadToHighWater returns every record of every partition of topic, from the
// first offset up to the high-water mark the partition has when it is called,
// as a consumer with the given isolation level sees them (read_committed: no
// aborted records). Counting duplicates on what it returns is exact: nothing
// written before the call is left unread. It fetches with the client's own
// connections rather than a sarama consumer because a consumer does not tell
// where it is: a partition whose last offsets are transaction markers or
// aborted records would never show a record at its high-water mark. Records
// of one partition are in offset order. An open transaction keeps
// read_committed from reaching the mark: ctx bounds the wait.
func ReadToHighWater(ctx context.Context, client sarama.Client, topic string, isolation sarama.IsolationLevel) ([]*sarama.ConsumerMessage, error) {
	if err := client.RefreshMetadata(topic); err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	partitions, err := client.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	var (
		mu   sync.Mutex
		all  []*sarama.ConsumerMessage
		errs []error
		wg   sync.WaitGroup
	)
	for _, p := range partitions {
		wg.Go(func() {
			records, err := readPartition(ctx, client, topic, p, isolation)
			mu.Lock()
			defer mu.Unlock()
			all = append(all, records...)
			errs = append(errs, err)
		})
	}
	wg.Wait()
	return all, errors.Join(errs...)
}

// readPartition fetches partition p from its log start to the high-water mark
// it has now.
func readPartition(ctx context.Context, client sarama.Client, topic string, p int32, isolation sarama.IsolationLevel) ([]*sarama.ConsumerMessage, error) {
	end, err := client.GetOffset(topic, p, sarama.OffsetNewest)
	if err != nil {
		return nil, fmt.Errorf("high-water mark of %s/%d: %w", topic, p, err)
	}
	next, err := client.GetOffset(topic, p, sarama.OffsetOldest)
	if err != nil {
		return nil, fmt.Errorf("log start of %s/%d: %w", topic, p, err)
	}
	var records []*sarama.ConsumerMessage
	aborted := abortedProducers{}
	for next < end {
		if err := ctx.Err(); err != nil {
			return records, fmt.Errorf("%s/%d read to %d of %d (an open transaction?): %w", topic, p, next, end, err)
		}
		block, err := fetch(client, topic, p, next, isolation)
		if err != nil {
			return records, err
		}
		if isolation == sarama.ReadCommitted {
			aborted.add(block.AbortedTransactions)
		}
		progressed := false
		for _, set := range block.RecordsSet {
			batch := set.RecordBatch
			if batch == nil || batch.PartialTrailingRecord {
				continue
			}
			last := batch.FirstOffset + int64(batch.LastOffsetDelta)
			if last < next {
				continue // a batch the fetch offset falls inside of, read already
			}
			progressed = true
			if aborted.drops(batch) || batch.Control {
				next = last + 1
				continue
			}
			for _, r := range batch.Records {
				offset := batch.FirstOffset + r.OffsetDelta
				if offset >= next && offset < end {
					records = append(records, consumerMessage(topic, p, batch, r))
				}
			}
			next = last + 1
		}
		if !progressed && len(block.RecordsSet) > 0 && next < block.LastStableOffset {
			return records, fmt.Errorf("%s/%d at %d: a batch larger than %d bytes", topic, p, next, fetchBytes)
		}
	}
	return records, nil
}

// fetch asks the partition's leader for what follows offset, waiting up to
// half a second for it.
func fetch(client sarama.Client, topic string, p int32, offset int64, isolation sarama.IsolationLevel) (*sarama.FetchResponseBlock, error) {
	leader, err := client.Leader(topic, p)
	if err != nil {
		return nil, fmt.Errorf("leader of %s/%d: %w", topic, p, err)
	}
	// Version 11: isolation levels and no fetch session (epoch -1), as sarama's consumer asks.
	req := &sarama.FetchRequest{Version: 11, MaxWaitTime: 500, MinBytes: 1, MaxBytes: fetchBytes, Isolation: isolation, SessionEpoch: -1}
	req.AddBlock(topic, p, offset, fetchBytes, -1)
	resp, err := leader.Fetch(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s/%d at %d: %w", topic, p, offset, err)
	}
	block := resp.GetBlock(topic, p)
	if block == nil {
		return nil, fmt.Errorf("fetch %s/%d at %d: no answer for the partition", topic, p, offset)
	}
	if !errors.Is(block.Err, sarama.ErrNoError) {
		return nil, fmt.Errorf("fetch %s/%d at %d: %w", topic, p, offset, block.Err)
	}
	return block, nil
}

// abortedProducers follows which producers' batches belong to an aborted
// transaction, as a read_committed consumer must (KIP-98): a producer's
// batches from an aborted transaction's first offset up to its abort marker.
type abortedProducers struct {
	pending []*sarama.AbortedTransaction // sorted by first offset, not yet reached
	active  map[int64]bool
}

func (a *abortedProducers) add(txns []*sarama.AbortedTransaction) {
	a.pending = append(a.pending, txns...)
	slices.SortFunc(a.pending, func(x, y *sarama.AbortedTransaction) int { return int(x.FirstOffset - y.FirstOffset) })
}

// drops tells whether batch is data of an aborted transaction; it follows
// the transactions' ends in the control batches.
func (a *abortedProducers) drops(batch *sarama.RecordBatch) bool {
	for len(a.pending) > 0 && a.pending[0].FirstOffset <= batch.LastOffset() {
		if a.active == nil {
			a.active = map[int64]bool{}
		}
		a.active[a.pending[0].ProducerID] = true
		a.pending = a.pending[1:]
	}
	if batch.Control {
		// The key of a control record: version, then type (0 = abort, 1 = commit).
		if len(batch.Records) > 0 && len(batch.Records[0].Key) >= 4 && binary.BigEndian.Uint16(batch.Records[0].Key[2:4]) == 0 {
			delete(a.active, batch.ProducerID)
		}
		return true
	}
	return batch.IsTransactional && a.active[batch.ProducerID]
}

func consumerMessage(topic string, p int32, batch *sarama.RecordBatch, r *sarama.Record) *sarama.ConsumerMessage {
	ts := batch.FirstTimestamp.Add(r.TimestampDelta)
	if batch.LogAppendTime {
		ts = batch.MaxTimestamp
	}
	return &sarama.ConsumerMessage{
		Topic: topic, Partition: p, Offset: batch.FirstOffset + r.OffsetDelta,
		Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: ts, BlockTimestamp: batch.MaxTimestamp,
	}
}

// Header returns the value of msg's header key, or "" if it has none.
func Header(msg *sarama.ConsumerMessage, key string) string {
	for _, h := range msg.Headers {
		if string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}

// HighWaterMarks is the sum of topic's partitions' high-water marks: on a
// topic nobody compacts or deletes from, how many offsets were written.
func HighWaterMarks(client sarama.Client, topic string) (int64, error) {
	partitions, err := client.Partitions(topic)
	if err != nil {
		return 0, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	var sum int64
	for _, p := range partitions {
		hwm, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return 0, fmt.Errorf("high-water mark of %s/%d: %w", topic, p, err)
		}
		sum += hwm
	}
	return sum, nil
}
