{{- /*
Per-service NATS permissions (YAML here; nats.yaml writes them into nats.conf). Worked out from what each service does with nats-py:

- every service runs bus.ensure_streams (stream INFO, CREATE, UPDATE of both
  streams) and receives JetStream API replies and pub acks on _INBOX;
- durable pull consumers: CREATE (nats-py uses DURABLE.CREATE for a durable
  with several filter subjects), INFO, MSG.NEXT, and $JS.ACK on their messages;
- ephemeral consumers (watcher history read-back, notifier snapshot and ordered
  feeds) are named by the client: CREATE/INFO/MSG.NEXT/DELETE on URUMI_EVENTS;
- KV buckets are streams KV_<bucket>: INFO and CREATE (ensure_bucket), reads by
  DIRECT.GET (or STREAM.MSG.GET), writes by publishing to $KV.<bucket>.<key>;
- the credentials request subject: the gateway may only ask, the provisioner
  alone may answer (allow_responses: one reply to the requester's inbox).
*/ -}}
{{- define "platform.natsStreamSetup" -}}
- "$JS.API.STREAM.INFO.URUMI_COMMANDS"
- "$JS.API.STREAM.CREATE.URUMI_COMMANDS"
- "$JS.API.STREAM.UPDATE.URUMI_COMMANDS"
- "$JS.API.STREAM.INFO.URUMI_EVENTS"
- "$JS.API.STREAM.CREATE.URUMI_EVENTS"
- "$JS.API.STREAM.UPDATE.URUMI_EVENTS"
{{- end }}

{{- define "platform.natsDurable" -}}
{{- $stream := index . 0 }}{{ $durable := index . 1 -}}
- "$JS.API.CONSUMER.DURABLE.CREATE.{{ $stream }}.{{ $durable }}"
- "$JS.API.CONSUMER.CREATE.{{ $stream }}.{{ $durable }}"
- "$JS.API.CONSUMER.CREATE.{{ $stream }}.{{ $durable }}.>"
- "$JS.API.CONSUMER.INFO.{{ $stream }}.{{ $durable }}"
- "$JS.API.CONSUMER.MSG.NEXT.{{ $stream }}.{{ $durable }}"
- "$JS.ACK.{{ $stream }}.{{ $durable }}.>"
{{- end }}

{{- define "platform.natsEphemeral" -}}
- "$JS.API.CONSUMER.CREATE.URUMI_EVENTS"
- "$JS.API.CONSUMER.CREATE.URUMI_EVENTS.>"
- "$JS.API.CONSUMER.INFO.URUMI_EVENTS.*"
- "$JS.API.CONSUMER.MSG.NEXT.URUMI_EVENTS.*"
- "$JS.API.CONSUMER.DELETE.URUMI_EVENTS.*"
{{- end }}

{{- define "platform.natsBucket" -}}
- "$JS.API.STREAM.INFO.KV_{{ . }}"
- "$JS.API.STREAM.CREATE.KV_{{ . }}"
- "$JS.API.DIRECT.GET.KV_{{ . }}.>"
- "$JS.API.STREAM.MSG.GET.KV_{{ . }}"
- "$KV.{{ . }}.>"
{{- end }}

{{- define "platform.natsPermissions" -}}
gateway:
  publish:
    allow:
      {{- include "platform.natsStreamSetup" . | nindent 6 }}
      - "urumi.cmd.>"
      - "urumi.rpc.credentials.>"
      {{- include "platform.natsDurable" (list "URUMI_EVENTS" "gateway-projector") | nindent 6 }}
  subscribe:
    allow: ["_INBOX.>"]
provisioner:
  publish:
    allow:
      {{- include "platform.natsStreamSetup" . | nindent 6 }}
      - "urumi.evt.*.*.progress"
      {{- include "platform.natsDurable" (list "URUMI_COMMANDS" "provisioner") | nindent 6 }}
      {{- include "platform.natsBucket" "urumi-provisioner-locks" | nindent 6 }}
      {{- include "platform.natsBucket" "urumi-provisioner-generations" | nindent 6 }}
  subscribe:
    allow: ["urumi.rpc.credentials.>", "_INBOX.>"]
  allow_responses: true
watcher:
  publish:
    allow:
      {{- include "platform.natsStreamSetup" . | nindent 6 }}
      - "urumi.evt.*.*.status"
      - "urumi.evt.*.*.kube"
      {{- include "platform.natsEphemeral" . | nindent 6 }}
      {{- include "platform.natsBucket" "urumi-watcher-lease" | nindent 6 }}
  subscribe:
    allow: ["_INBOX.>"]
notifier:
  publish:
    allow:
      {{- include "platform.natsStreamSetup" . | nindent 6 }}
      {{- include "platform.natsEphemeral" . | nindent 6 }}
      # Flow-control replies of the ordered (push) consumers.
      - "$JS.FC.URUMI_EVENTS.>"
  subscribe:
    allow: ["_INBOX.>"]
{{- end }}
