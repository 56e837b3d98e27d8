package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// A duplicate written after every ID was seen once is counted.
func TestReplyCountsCountsALateDuplicate(t *testing.T) {
	client := newClient(t)
	topic := newTopic(t, client, 3)
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	ids := []string{"id-0", "id-1", "id-2"}
	for _, id := range append(ids, "id-1") {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(id), Value: sarama.StringEncoder("v")})
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	counts, err := ReplyCounts(ctx, client, topic)
	if err != nil {
		t.Fatal(err)
	}
	if counts["id-0"] != 1 || counts["id-1"] != 2 || counts["id-2"] != 1 || len(counts) != 3 {
		t.Fatalf("counts %v, want id-1 twice and the others once", counts)
	}
	if d := Duplicates(counts, ids); d != 1 {
		t.Fatalf("%d duplicates, want 1", d)
	}
}
