{{/*
What only the worker has. Names, labels, the image and the shared objects
come from the streamgate-lib library chart (charts/streamgate-lib).
*/}}

{{/*
The environment the worker reads: the shared variables, its topics and
group, when a partition counts as stuck, how many partitions it holds at the
full in-flight bounds (docs/configuration.md) and the
delivery mode (docs/exactly-once.md).
*/}}
{{- define "worker.env" -}}
{{- $own := printf `- name: KAFKA_OUT_TOPIC
  value: %s
- name: KAFKA_DLQ_TOPIC
  value: %s
- name: KAFKA_GROUP_ID
  value: %s
- name: STUCK_PARTITION_THRESHOLD
  value: %s
- name: PARTITIONS_AT_FULL_BOUNDS
  value: %s
- name: DELIVERY
  value: %s
- name: TRANSACTION_MAX_RECORDS
  value: %s
- name: TRANSACTION_MAX_WAIT
  value: %s` (.Values.kafka.topics.out | quote) (.Values.kafka.topics.dlq | quote) (.Values.kafka.groupId | quote) (printf "%ds" (int .Values.stuckPartitionThresholdSeconds) | quote) (.Values.partitionsAtFullBounds | int | toString | quote)
  (.Values.delivery.mode | quote) (.Values.delivery.transactionMaxRecords | int | toString | quote) (printf "%dms" (int .Values.delivery.transactionMaxWaitMilliseconds) | quote) }}
{{- include "streamgate.env" (dict "root" . "serviceEnv" $own) }}
{{- end }}
