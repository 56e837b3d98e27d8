{{/*
The environment both services read (docs/configuration.md), with the
variables only one service reads (.serviceEnv, a YAML list) after the topics,
and the OTEL_* variables of tracing.env (read by the OpenTelemetry SDK).
Takes (dict "root" $ "serviceEnv" "..."). Every name is one of the service's
config.EnvVars(), a Kafka security setting (config.KafkaSecurityVars), an
OTEL_* variable or the pod's name and namespace (tracing.EnvPodName,
EnvPodNamespace); tests/deploy checks that.
*/}}
{{- define "streamgate.env" -}}
{{- with .root -}}
- name: HTTP_ADDR
  value: {{ printf ":%d" (int .Values.containerPort) | quote }}
- name: METRICS_ADDR
  value: {{ printf ":%d" (int .Values.metrics.port) | quote }}
- name: KAFKA_ENABLED
  value: {{ .Values.kafka.enabled | toString | quote }}
- name: KAFKA_BROKERS
  value: {{ include "streamgate.kafkaBrokers" . | quote }}
- name: KAFKA_IN_TOPIC
  value: {{ .Values.kafka.topics.in | quote }}
{{- with $.serviceEnv }}
{{ . }}
{{- end }}
{{- include "streamgate.kafkaSecurityEnv" . }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: SHUTDOWN_TIMEOUT
  value: {{ printf "%ds" (int .Values.shutdownTimeoutSeconds) | quote }}
# The pod's name and namespace, for the spans' resource attributes (service.instance.id,
# k8s.pod.name, k8s.namespace.name; docs/observability.md).
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- range $name, $value := .Values.tracing.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
kafka.brokers as KAFKA_BROKERS wants it: a list of host:port (what `--set
'kafka.brokers={k1:9092,k2:9092}'` and skaffold's existing-kafka profile pass)
joined with commas, or a string given as it is.
*/}}
{{- define "streamgate.kafkaBrokers" -}}
{{- $brokers := .Values.kafka.brokers }}
{{- if kindIs "slice" $brokers }}
{{- join "," $brokers }}
{{- else }}
{{- $brokers }}
{{- end }}
{{- end }}

{{/*
Checks across values that a JSON schema cannot express. Takes
(dict "root" $ "env" "<the chart's env list>").
*/}}
{{- define "streamgate.validate" -}}
{{- with .root }}
{{- $preStop := int (.Values.preStopSleepSeconds | default 0) }}
{{- $stopping := add $preStop (int .Values.shutdownTimeoutSeconds) }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $stopping) }}
{{- $what := ternary "preStopSleepSeconds + shutdownTimeoutSeconds" "shutdownTimeoutSeconds" (hasKey .Values "preStopSleepSeconds") }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be greater than %s (%d): the kubelet would kill the %s before its graceful shutdown ends" (int .Values.terminationGracePeriodSeconds) $what (int $stopping) .Chart.Name) }}
{{- end }}
{{- include "streamgate.validateKafkaSecurity" . }}
{{- $managed := list }}
{{- range ($.env | fromYamlArray) }}
{{- $managed = append $managed .name }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if has .name $managed }}
{{- fail (printf "extraEnv: %s is set by the chart; use its value instead (see values.yaml)" .name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
