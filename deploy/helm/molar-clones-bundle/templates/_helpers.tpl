{{- define "mc.name" -}}{{ .Release.Name }}-molar-clones{{- end -}}
{{- define "mc.labels" -}}
app.kubernetes.io/name: molar-clones
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "mc.secret" -}}{{ .Values.auth.existingSecret | default (include "mc.name" .) }}{{- end -}}
