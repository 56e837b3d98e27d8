package testkit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// CreateTopics creates names (an existing one is kept) with detail's
// partitions and replication, and waits until every partition of each is
// writable and its leader serves it: CreateTopic returns before that, and a
// client that starts too early gives up on a partition without a leader. The admin is made from
// client and left open, as closing it would close client.
func CreateTopics(ctx context.Context, client sarama.Client, detail sarama.TopicDetail, names ...string) error {
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return fmt.Errorf("cluster admin: %w", err)
	}
	for _, name := range names {
		d := detail
		if err := admin.CreateTopic(name, &d, false); err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
	}
	for _, name := range names {
		err := Poll(ctx, 30*time.Second, 100*time.Millisecond, func() error {
			if err := client.RefreshMetadata(name); err != nil {
				return err
			}
			writable, err := client.WritablePartitions(name)
			if err == nil && len(writable) != int(detail.NumPartitions) {
				err = fmt.Errorf("%d of %d partitions writable", len(writable), detail.NumPartitions)
			}
			if err != nil {
				return err
			}
			// The metadata can name a leader before it serves the partition
			// (NOT_LEADER on a first send); its answer to ListOffsets says it does.
			for _, p := range writable {
				if _, err := client.GetOffset(name, p, sarama.OffsetNewest); err != nil {
					return fmt.Errorf("partition %d: %w", p, err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("topic %s: %w", name, err)
		}
	}
	return nil
}
