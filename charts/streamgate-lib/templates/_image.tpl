{{/*
The image tag: image.tag, else the chart's appVersion. "latest" is refused
(the schema refuses it too), so every render names a pinned image.
*/}}
{{- define "streamgate.imageTag" -}}
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
{{- define "streamgate.versionLabel" -}}
{{- $tag := include "streamgate.imageTag" . | splitList "@" | first }}
{{- regexReplaceAll "[^A-Za-z0-9_.-]" $tag "_" | trunc 63 | trimAll "-_." }}
{{- end }}

{{- define "streamgate.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "streamgate.imageTag" .) }}
{{- end }}
