{{/*
What only the gateway has. Names, labels, the image and the shared objects
come from the streamgate-lib library chart (charts/streamgate-lib).
*/}}

{{/*
The environment the gateway reads: the shared variables only (README.md,
Configuration).
*/}}
{{- define "gateway.env" -}}
{{- $own := printf `- name: ACCESS_LOG
  value: %s` (.Values.accessLog | quote) }}
{{- include "streamgate.env" (dict "root" . "serviceEnv" $own) }}
{{- end }}
