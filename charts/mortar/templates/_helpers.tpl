{{/* The release's name for its objects. */}}
{{- define "mortar.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mortar.labels" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "mortar.selector" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mortar.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mortar.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secrets the controller may read, by name. */}}
{{- define "mortar.secretNames" -}}
{{- $names := list -}}
{{- range $k := list "credentials" "webhooks" "idp" -}}
{{- with index $.Values.existingSecrets $k -}}{{- $names = append $names . -}}{{- end -}}
{{- end -}}
{{- range .Values.existingSecrets.extra -}}{{- $names = append $names . -}}{{- end -}}
{{- $names | uniq | toJson -}}
{{- end -}}

{{/* mortar.yaml: the values' config under the keys the chart manages. */}}
{{- define "mortar.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $server := deepCopy (default dict $config.server) -}}
{{- /* Without sign-in (server.auth) the API stays on loopback: reach it
     with kubectl port-forward; webhooks need server.auth to be reachable. */ -}}
{{- $host := ternary "0.0.0.0" "127.0.0.1" (hasKey $server "auth") -}}
{{- $_ := set $server "listen" (printf "%s:%v" $host .Values.service.port) -}}
{{- $_ := set $server "metrics_listen" (printf "0.0.0.0:%v" .Values.metricsService.port) -}}
{{- $_ := set $config "server" $server -}}
{{- $_ := set $config "kubernetes" (dict "lease" (include "mortar.fullname" .) "shards" .Values.shards "max_replicas" .Values.maxReplicas "lease_duration" .Values.leaseDuration "events" .Values.events "state" .Values.state) -}}
{{- $_ := set $config "state" (dict "dir" "/var/lib/mortar/state") -}}
{{- if not $config.audit -}}
{{- $_ := set $config "audit" (dict "sinks" (list "stdout")) -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}
