{{/*
Metrics: /metrics on a port of its own (metrics.port), reached through a
headless Service of its own, "<fullname>-metrics". The public Service (the
gateway's may be a LoadBalancer, or behind an Ingress) never exposes it, and
the NetworkPolicy admits only networkPolicy.metricsFrom to it.
*/}}

{{- define "streamgate.metricsName" -}}
{{- printf "%s-metrics" (include "streamgate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The label selector of this release's series in Prometheus: the job is the
metrics Service's name (the Prometheus Operator's default), so two releases
never mix.
*/}}
{{- define "streamgate.promSelector" -}}
namespace="{{ .Release.Namespace }}", job="{{ include "streamgate.metricsName" . }}"
{{- end }}

{{- define "streamgate.metricsService" -}}
{{- if .Values.metrics.service.enabled }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "streamgate.metricsName" . }}
  labels:
    {{- include "streamgate.labelsFor" (dict "root" . "component" "metrics") | nindent 4 }}
spec:
  # Headless: scrapers address each pod; nothing load-balances /metrics.
  clusterIP: None
  ports:
    - name: metrics
      port: {{ .Values.metrics.port }}
      targetPort: metrics
      protocol: TCP
  selector:
    {{- include "streamgate.selectorLabels" . | nindent 4 }}
{{- end }}
{{- end }}

{{- define "streamgate.serviceMonitor" -}}
{{- with .Values.metrics.serviceMonitor }}
{{- if .enabled }}
{{- if not $.Values.metrics.service.enabled }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.service.enabled: the ServiceMonitor selects that Service" }}
{{- end }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "streamgate.fullname" $ }}
  labels:
    {{- include "streamgate.labels" $ | nindent 4 }}
    {{- with .labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "streamgate.selectorLabels" $ | nindent 6 }}
      app.kubernetes.io/component: metrics
  namespaceSelector:
    matchNames:
      - {{ $.Release.Namespace }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ .interval }}
      scrapeTimeout: {{ .scrapeTimeout }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A PrometheusRule with the chart's alert rules. Takes (dict "root" $ "rules"
"<the rules, a YAML list>"), and optionally "groups": more rule groups, a dict
of group name suffix to rules, each its own group.
*/}}
{{- define "streamgate.prometheusRule" -}}
{{- with .root }}
{{- if .Values.metrics.prometheusRule.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ include "streamgate.fullname" . }}
  labels:
    {{- include "streamgate.labels" . | nindent 4 }}
    {{- with .Values.metrics.prometheusRule.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  groups:
    - name: {{ printf "streamgate-%s" (include "streamgate.fullname" .) }}
      rules:
        {{- $.rules | trim | nindent 8 }}
    {{- range $suffix, $rules := $.groups }}
    - name: {{ printf "streamgate-%s-%s" (include "streamgate.fullname" $.root) $suffix }}
      rules:
        {{- $rules | trim | nindent 8 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The chart's Grafana dashboard (dashboards/<chart>.json) in a ConfigMap the
Grafana sidecar picks up by its label.
*/}}
{{- define "streamgate.dashboard" -}}
{{- with .Values.metrics.dashboard }}
{{- if .enabled }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-dashboard" (include "streamgate.fullname" $) }}
  labels:
    {{- include "streamgate.labels" $ | nindent 4 }}
    {{- toYaml .labels | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
data:
  {{ printf "streamgate-%s.json" $.Chart.Name }}: |-
    {{- $.Files.Get (printf "dashboards/%s.json" $.Chart.Name) | nindent 4 }}
{{- end }}
{{- end }}
{{- end }}
