{{/*
What only the gateway has. Names, labels, the image and the shared objects
come from the streamgate-lib library chart (charts/streamgate-lib).
*/}}

{{/*
The environment the gateway reads: the shared variables, its access log, how
often it looks for new reply partitions, its producer's linger, whether clients'
trace context is trusted, how many requests it serves at once and the consumer
group whose lag it reads from the broker
(docs/configuration.md).
*/}}
{{- define "gateway.env" -}}
{{- $own := printf `- name: ACCESS_LOG
  value: %s
- name: REPLY_PARTITION_CHECK_INTERVAL
  value: %s
- name: KAFKA_LINGER
  value: %s
- name: TRUST_INCOMING_TRACE_CONTEXT
  value: %s
- name: MAX_IN_FLIGHT_REQUESTS
  value: %s
- name: LAG_GROUP_ID
  value: %s` (.Values.accessLog | quote) (printf "%ds" (int .Values.replyPartitionCheckSeconds) | quote) (.Values.kafkaLinger | quote) (.Values.trustIncomingTraceContext | toString | quote) (.Values.maxInFlightRequests | int | toString | quote) (.Values.lagGroupId | quote) }}
{{- include "streamgate.env" (dict "root" . "serviceEnv" $own) }}
{{- end }}
