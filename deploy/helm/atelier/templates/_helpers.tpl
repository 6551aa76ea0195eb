{{/* The processes `atelier up` starts (files/topology.yaml, written by deploy/render.py). */}}
{{- define "atelier.processes" -}}
{{- (.Files.Get "files/topology.yaml" | fromYaml).processes | toYaml -}}
{{- end -}}

{{- define "atelier.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: atelier
app.kubernetes.io/instance: {{ .root.Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "atelier.image" -}}
{{- if or (not .Values.image.tag) (eq (toString .Values.image.tag) "latest") -}}
{{- fail "image.tag: pin the image to a tag, not latest" -}}
{{- end -}}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) -}}
{{- end -}}

{{/* Most replicas a process can have: the autoscaler's maximum, or its fixed count. */}}
{{- define "atelier.maxReplicas" -}}
{{- $scaling := get .root.Values.autoscaling .process.kind -}}
{{- if $scaling -}}{{ $scaling.maxReplicas }}{{- else -}}{{ get .root.Values.replicas .process.kind | default 1 }}{{- end -}}
{{- end -}}

{{/* The connection budget: every process's pool times its most replicas (plus the migrate job's
one) must fit the server's max_connections minus what is kept for others. */}}
{{- define "atelier.connectionBudget" -}}
{{- $root := . -}}
{{- $needed := 1 -}}
{{- range (include "atelier.processes" . | fromYamlArray) -}}
{{- $needed = add $needed (mul .connections (include "atelier.maxReplicas" (dict "root" $root "process" .) | int)) -}}
{{- end -}}
{{- $allowed := sub (int .Values.postgresql.maxConnections) (int .Values.postgresql.reservedConnections) -}}
{{- if gt (int $needed) (int $allowed) -}}
{{- fail (printf "connection budget: the autoscalers' maxima can open %d PostgreSQL connections, but postgresql.maxConnections (%d) minus postgresql.reservedConnections (%d) allows %d: raise max_connections, lower autoscaling.*.maxReplicas, or put PgBouncer in front" (int $needed) (int .Values.postgresql.maxConnections) (int .Values.postgresql.reservedConnections) (int $allowed)) -}}
{{- end -}}
{{- $needed -}}
{{- end -}}

{{- define "atelier.envFrom" -}}
- configMapRef:
    name: atelier-config
- secretRef:
    name: {{ .Values.secrets.existingSecret }}
{{- end -}}

{{/* The connection URLs, each from its existing Secret's key. */}}
{{- define "atelier.urlEnv" -}}
- name: ATELIER_POSTGRES_SERVER_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.postgresql.url.existingSecret }}, key: {{ .Values.postgresql.url.key }}}}
- name: ATELIER_AMQP_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.rabbitmq.url.existingSecret }}, key: {{ .Values.rabbitmq.url.key }}}}
- name: ATELIER_REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ .Values.redis.url.existingSecret }}, key: {{ .Values.redis.url.key }}, optional: true}}
{{- end -}}

{{- define "atelier.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "atelier.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* The root filesystem is read-only: the data directory (keys, local files) and /tmp are scratch. */}}
{{- define "atelier.mounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "atelier.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end -}}

{{/* A change of the ConfigMap or of the Secrets rolls the pods (the Secrets through `lookup`:
helm install/upgrade reads them from the cluster; an offline render sees none). */}}
{{- define "atelier.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- $data := dict -}}
{{- range $name := uniq (list .Values.secrets.existingSecret .Values.postgresql.url.existingSecret .Values.rabbitmq.url.existingSecret .Values.redis.url.existingSecret) }}
{{- $secret := lookup "v1" "Secret" $.Release.Namespace $name -}}
{{- $_ := set $data $name ($secret.data | default dict) -}}
{{- end }}
checksum/secrets: {{ $data | toJson | sha256sum }}
{{- end -}}
