{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, with the chart name unless the
release name already contains it.
*/}}
{{- define "gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gateway.labels" -}}
helm.sh/chart: {{ include "gateway.chart" . }}
{{ include "gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ include "gateway.versionLabel" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: gateway
app.kubernetes.io/part-of: streamgate
{{- end }}

{{- define "gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image tag: image.tag, else the chart's appVersion. "latest" is refused
(the schema refuses it too), so every render names a pinned image.
*/}}
{{- define "gateway.imageTag" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString }}
{{- if or (eq $tag "latest") (hasPrefix "latest@" $tag) }}
{{- fail "image.tag must pin a version: \"latest\" is not allowed" }}
{{- end }}
{{- $tag }}
{{- end }}

{{/*
The image tag as a label value: without a "@sha256:..." digest (skaffold
passes tag@digest), other characters a label cannot hold replaced by "_".
*/}}
{{- define "gateway.versionLabel" -}}
{{- $tag := include "gateway.imageTag" . | splitList "@" | first }}
{{- regexReplaceAll "[^A-Za-z0-9_.-]" $tag "_" | trunc 63 | trimAll "-_." }}
{{- end }}

{{- define "gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "gateway.imageTag" .) }}
{{- end }}

{{/*
The environment the gateway reads (README.md, Configuration). Every name here must be
one of services/gateway/config.EnvVars(); tests/deploy checks that.
*/}}
{{- define "gateway.env" -}}
- name: HTTP_ADDR
  value: {{ printf ":%d" (int .Values.containerPort) | quote }}
- name: KAFKA_ENABLED
  value: {{ .Values.kafka.enabled | toString | quote }}
- name: KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
- name: KAFKA_IN_TOPIC
  value: {{ .Values.kafka.topics.in | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: SHUTDOWN_TIMEOUT
  value: {{ printf "%ds" (int .Values.shutdownTimeoutSeconds) | quote }}
{{- end }}

{{/*
Checks across values that a JSON schema cannot express.
*/}}
{{- define "gateway.validate" -}}
{{- $stopping := add (int .Values.preStopSleepSeconds) (int .Values.shutdownTimeoutSeconds) }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $stopping) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be greater than preStopSleepSeconds + shutdownTimeoutSeconds (%d): the kubelet would kill the gateway before its graceful shutdown ends" (int .Values.terminationGracePeriodSeconds) (int $stopping)) }}
{{- end }}
{{- $managed := list }}
{{- range (include "gateway.env" . | fromYamlArray) }}
{{- $managed = append $managed .name }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if has .name $managed }}
{{- fail (printf "extraEnv: %s is set by the chart; use its value instead (see values.yaml)" .name) }}
{{- end }}
{{- end }}
{{- end }}
