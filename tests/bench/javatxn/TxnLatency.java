// TxnLatency asks whether DELIVERY=exactly-once's latency is sarama's or Kafka's: the
// same open loop as `txnprobe -policies` (records arriving -gap apart, timed until a
// read_committed reader sees them), written by Apache Kafka's own Java client, which
// speaks transactions v2 (KIP-890: no AddPartitionsToTxn round trip, an epoch bump per
// commit) where sarama v1.61.1 speaks v1. Run by `make bench-txn-java`.
//
//   java -cp 'classes:libs/*' TxnLatency <bootstrap> <n> <gapMicros> <rounds>
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class TxnLatency {
    static final String END = "";
    static final CountDownLatch stopReading = new CountDownLatch(1);

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: TxnLatency <bootstrap> <n> <gapMicros> <rounds>");
            System.exit(2);
        }
        String bootstrap = args[0];
        int n = Math.min(Integer.parseInt(args[1]), 10_000);
        long gapNanos = Long.parseLong(args[2]) * 1_000;
        int rounds = Math.min(Integer.parseInt(args[3]), 10);
        String suffix = Long.toString(System.nanoTime(), 36);
        String out = "javatxn-out-" + suffix, in = "javatxn-in-" + suffix;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(out, 3, (short) 1), new NewTopic(in, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            try {
                measure(bootstrap, out, in, suffix, n, gapNanos, rounds);
            } finally {
                admin.deleteTopics(List.of(out, in)).all().get(30, TimeUnit.SECONDS);
            }
        }
    }

    static void measure(String bootstrap, String out, String in, String suffix, int n, long gapNanos, int rounds) throws Exception {
        Map<String, Long> seen = new ConcurrentHashMap<>();
        Map<String, Integer> times = new ConcurrentHashMap<>();
        Thread reader = startReader(bootstrap, out, seen, times);
        String[] names = {
            "at-least-once: idempotent producer, linger 0",
            "exactly-once: one transactional producer; a transaction takes every record queued and commits at once",
        };
        List<List<Long>> latencies = List.of(new ArrayList<>(), new ArrayList<>());
        for (int round = 0; round < rounds; round++) {
            for (int way = 0; way < names.length; way++) {
                String prefix = round + "-" + way + "-";
                Map<String, Long> arrived = arrive(bootstrap, out, in, suffix + prefix, way == 1, n, gapNanos, prefix, seen);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!seen.keySet().containsAll(arrived.keySet()) && System.nanoTime() < deadline) Thread.sleep(10);
                for (Map.Entry<String, Long> e : arrived.entrySet()) {
                    if (times.getOrDefault(e.getKey(), 0) != 1)
                        throw new IllegalStateException(names[way] + ": " + e.getKey() + " seen " + times.getOrDefault(e.getKey(), 0) + " times, want once");
                    latencies.get(way).add(seen.get(e.getKey()) - e.getValue());
                }
            }
        }
        stopReading.countDown();
        reader.join();
        System.out.printf("%d records %.1f ms apart, %d rounds, Kafka's Java client: from a record's arrival to a read_committed reader seeing it%n%n", n, gapNanos / 1e6, rounds);
        System.out.println("| how it is written | p50 ms | p90 ms | p99 ms |");
        System.out.println("| --- | --- | --- | --- |");
        for (int way = 0; way < names.length; way++) {
            List<Long> d = latencies.get(way);
            Collections.sort(d);
            System.out.printf("| %s | %.2f | %.2f | %.2f |%n", names[way], q(d, 0.5), q(d, 0.9), q(d, 0.99));
        }
    }

    static double q(List<Long> sorted, double q) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.round(q * (sorted.size() - 1)))) / 1e6;
    }

    // arrive starts a writer, hands it a first key and waits until it is read (the
    // producer connected and knows the topic), then n keys gapNanos apart.
    static Map<String, Long> arrive(String bootstrap, String out, String in, String txnId, boolean transactional, int n, long gapNanos, String prefix, Map<String, Long> seen) throws Exception {
        BlockingQueue<String> keys = new LinkedBlockingQueue<>();
        // Daemon threads: a failed run ends the JVM instead of leaving it waiting.
        ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "writer");
            t.setDaemon(true);
            return t;
        });
        Future<?> written = writer.submit(() -> {
            write(bootstrap, out, in, transactional ? "javatxn-" + txnId : null, keys);
            return null;
        });
        keys.put(prefix + "first");
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!seen.containsKey(prefix + "first")) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("the first record was not read within 30s");
            Thread.sleep(10);
        }
        Map<String, Long> arrived = new HashMap<>();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long wait = start + i * gapNanos - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            String key = prefix + i;
            arrived.put(key, System.nanoTime());
            keys.put(key);
        }
        keys.put(END);
        written.get(60, TimeUnit.SECONDS);
        writer.shutdown();
        return arrived;
    }

    static void write(String bootstrap, String out, String in, String txnId, BlockingQueue<String> keys) throws InterruptedException {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("linger.ms", "0");
        p.put("enable.idempotence", "true");
        p.put("acks", "all");
        // The worker's retry steps (pkg/platform/kafka/transactional): the default 100 ms
        // would be waited out after every commit (CONCURRENT_TRANSACTIONS).
        p.put("retry.backoff.ms", "2");
        p.put("retry.backoff.max.ms", "20");
        if (txnId != null) p.put("transactional.id", txnId);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            Consumer<String> send = key -> producer.send(new ProducerRecord<>(out, key, "x"));
            if (txnId == null) {
                for (String key = keys.take(); !key.equals(END); key = keys.take()) send.accept(key);
                return;
            }
            producer.initTransactions();
            long offset = 0;
            @SuppressWarnings("removal") // a group without members, as txnprobe's
            ConsumerGroupMetadata group = new ConsumerGroupMetadata(txnId);
            for (String key = keys.take(); !key.equals(END); key = keys.take()) {
                producer.beginTransaction();
                send.accept(key);
                List<String> queued = new ArrayList<>();
                keys.drainTo(queued);
                boolean last = false;
                for (String k : queued) {
                    if (k.equals(END)) last = true;
                    else send.accept(k);
                }
                offset += 1 + queued.size();
                producer.sendOffsetsToTransaction(Map.of(new TopicPartition(in, 0), new OffsetAndMetadata(offset)), group);
                producer.commitTransaction();
                if (last) return;
            }
        }
    }

    static Thread startReader(String bootstrap, String out, Map<String, Long> seen, Map<String, Integer> times) throws InterruptedException {
        CountDownLatch assigned = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("isolation.level", "read_committed");
            p.put("fetch.max.wait.ms", "50");
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
                List<TopicPartition> parts = new ArrayList<>();
                for (int i = 0; i < 3; i++) parts.add(new TopicPartition(out, i));
                c.assign(parts);
                c.seekToEnd(parts);
                parts.forEach(c::position);
                assigned.countDown();
                while (stopReading.getCount() > 0) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                        long now = System.nanoTime();
                        seen.putIfAbsent(r.key(), now);
                        times.merge(r.key(), 1, Integer::sum);
                    }
                }
            }
        });
        t.setDaemon(true);
        t.start();
        if (!assigned.await(90, TimeUnit.SECONDS)) throw new IllegalStateException("the reader was not assigned " + out + " within 90s");
        return t;
    }
}
