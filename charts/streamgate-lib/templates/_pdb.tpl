{{/*
The PodDisruptionBudget, only when enabled and more than one pod runs: with
one pod, any budget blocks every node drain (podinfo guards it the same way).
Takes (dict "root" $ "minReplicas" <the fewest pods that run>).
*/}}
{{- define "streamgate.podDisruptionBudget" -}}
{{- with .root }}
{{- if and .Values.podDisruptionBudget.enabled (gt (int $.minReplicas) 1) }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "streamgate.fullname" . }}
  labels:
    {{- include "streamgate.labels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable) }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  {{- else }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable | default 1 }}
  {{- end }}
  {{- with .Values.podDisruptionBudget.unhealthyPodEvictionPolicy }}
  unhealthyPodEvictionPolicy: {{ . }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "streamgate.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}
{{- end }}
