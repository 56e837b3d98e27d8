{{/*
Ingress: the service port, from networkPolicy.ingressFrom (and the chart's
helm test Pod) or from anywhere; the metrics port from networkPolicy.metricsFrom. Egress: the Kafka brokers and
cluster DNS only. Takes (dict "root" $ "portName" "http").
*/}}
{{- define "streamgate.networkPolicy" -}}
{{- with .root }}
{{- if .Values.networkPolicy.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "streamgate.fullname" . }}
  labels:
    {{- include "streamgate.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "streamgate.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - ports:
        - port: {{ $.portName }}
          protocol: TCP
      {{- with .Values.networkPolicy.ingressFrom }}
      from:
        {{- toYaml . | nindent 8 }}
        # The chart's own helm test Pod.
        - podSelector:
            matchLabels:
              {{- include "streamgate.testSelectorLabels" $.root | nindent 14 }}
      {{- end }}
    # /metrics: only the scrapers of networkPolicy.metricsFrom.
    - ports:
        - port: metrics
          protocol: TCP
      from:
        {{- toYaml .Values.networkPolicy.metricsFrom | nindent 8 }}
  egress:
    - to:
        {{- toYaml .Values.networkPolicy.kafka.to | nindent 8 }}
      ports:
        {{- range include "streamgate.kafkaPorts" . | fromJsonArray }}
        - port: {{ . }}
          protocol: TCP
        {{- end }}
    - to:
        {{- toYaml .Values.networkPolicy.dns.to | nindent 8 }}
      ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    {{- with .Values.networkPolicy.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The broker ports egress may reach, as a JSON list: networkPolicy.kafka.ports,
or when that is empty the ports of kafka.brokers, so the policy follows the
listener the pods are configured for (9092 plaintext, 9093 TLS in k8s/).
*/}}
{{- define "streamgate.kafkaPorts" -}}
{{- $ports := list }}
{{- if .Values.networkPolicy.kafka.ports }}
{{- $ports = .Values.networkPolicy.kafka.ports }}
{{- else }}
{{- range include "streamgate.kafkaBrokers" . | splitList "," }}
{{- $ports = append $ports (splitList ":" . | last | int) }}
{{- end }}
{{- end }}
{{- $ports | uniq | toJson }}
{{- end }}
