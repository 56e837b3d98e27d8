{{/*
Names and labels. Every template here takes the service chart's root context.
*/}}

{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "streamgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, with the chart name unless the
release name already contains it.
*/}}
{{- define "streamgate.fullname" -}}
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

{{- define "streamgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The service chart's name is the component: gateway or worker.
*/}}
{{- define "streamgate.labels" -}}
{{- include "streamgate.labelsFor" (dict "root" . "component" .Chart.Name) }}
{{- end }}

{{/*
The labels of an object with its own component (e.g. "metrics"). Takes
(dict "root" $ "component" "...").
*/}}
{{- define "streamgate.labelsFor" -}}
{{- with .root -}}
helm.sh/chart: {{ include "streamgate.chart" . }}
{{ include "streamgate.selectorLabels" . }}
app.kubernetes.io/version: {{ include "streamgate.versionLabel" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ $.component }}
app.kubernetes.io/part-of: streamgate
{{- end }}
{{- end }}

{{- define "streamgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "streamgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "streamgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
