{{- /*
Per-service NATS permissions (YAML here; nats.yaml writes them into nats.conf). Worked out from what each service does with nats-py:

- the gateway creates and updates both streams (URUMI_MANAGE_STREAMS); the
  others only read their INFO while they wait for them;
- each service receives JetStream API replies and pub acks on its own inbox
  prefix `_INBOX_<service>.>` (services/runtime/bus.py), so no service can read
  another's replies (the credentials travel as a reply to the gateway);
- the provisioner's queue audit: INFO and DELETE on its own consumer;
- durable pull consumers: DURABLE.CREATE (nats-py's form for a durable with a
  filter_subjects list), MSG.NEXT, and $JS.ACK on their own messages;
- ephemeral consumers on URUMI_EVENTS: the watcher's status read-back is named
  by the client with its filter in the subject (CREATE.<stream>.<name>.<filter>),
  so it may only create status-filtered ones (they expire by inactivity); the
  notifier's snapshot is the same with a tenant filter, deleted when read, and
  its ordered feed uses the bare CREATE form; INFO and MSG.NEXT on any name;
- KV buckets are streams KV_<bucket>: INFO and CREATE (ensure_bucket), reads by
  STREAM.MSG.GET (the buckets are created without direct get), writes by
  publishing to $KV.<bucket>.<key>;
- the watcher publishes ReconcileStore commands on `urumi.cmd.<t>.<s>.reconcile`
  only (the provisioner refuses any other command there);
- the credentials request subject: the gateway may only ask, the provisioner
  alone may answer (allow_responses: one reply to the requester's inbox).
*/ -}}
{{- define "platform.natsStreamInfo" -}}
- "$JS.API.STREAM.INFO.URUMI_COMMANDS"
- "$JS.API.STREAM.INFO.URUMI_EVENTS"
{{- end }}

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
- "$JS.API.CONSUMER.MSG.NEXT.{{ $stream }}.{{ $durable }}"
- "$JS.ACK.{{ $stream }}.{{ $durable }}.>"
{{- end }}

{{- define "platform.natsEphemeral" -}}
- "$JS.API.CONSUMER.INFO.URUMI_EVENTS.*"
- "$JS.API.CONSUMER.MSG.NEXT.URUMI_EVENTS.*"
{{- end }}

{{- define "platform.natsBucket" -}}
- "$JS.API.STREAM.INFO.KV_{{ . }}"
- "$JS.API.STREAM.CREATE.KV_{{ . }}"
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
      # Fleet upgrades' progress (services/gateway/fleet_events.py), for the admin.
      - "urumi.evt._platform.*.fleet"
      {{- include "platform.natsDurable" (list "URUMI_EVENTS" "gateway-projector") | nindent 6 }}
  subscribe:
    allow: ["_INBOX_gateway.>"]
provisioner:
  publish:
    allow:
      {{- include "platform.natsStreamInfo" . | nindent 6 }}
      - "urumi.evt.*.*.progress"
      {{- include "platform.natsDurable" (list "URUMI_COMMANDS" "provisioner") | nindent 6 }}
      # The queue audit reads its consumer, and rebuilds it when it strands commands.
      - "$JS.API.CONSUMER.INFO.URUMI_COMMANDS.provisioner"
      - "$JS.API.CONSUMER.DELETE.URUMI_COMMANDS.provisioner"
      {{- include "platform.natsBucket" "urumi-provisioner-locks" | nindent 6 }}
      {{- include "platform.natsBucket" "urumi-provisioner-generations" | nindent 6 }}
      {{- include "platform.natsBucket" "urumi-provisioner-applied" | nindent 6 }}
  subscribe:
    allow: ["urumi.rpc.credentials.>", "_INBOX_provisioner.>"]
  allow_responses: true
watcher:
  publish:
    allow:
      {{- include "platform.natsStreamInfo" . | nindent 6 }}
      - "urumi.evt.*.*.status"
      - "urumi.evt.*.*.kube"
      # Stores' visits, read from the ingress controller (auto-sleep).
      - "urumi.evt._platform.*.activity"
      # Self-healing asks for re-applies, on their own subject: never a create or delete.
      - "urumi.cmd.*.*.reconcile"
      # Read back the last statuses (services/runtime/stream_reader.py), deleting
      # the reader's consumer when done rather than leaving it to time out.
      - "$JS.API.CONSUMER.CREATE.URUMI_EVENTS.*.urumi.evt.*.*.status"
      {{- include "platform.natsEphemeral" . | nindent 6 }}
      - "$JS.API.CONSUMER.DELETE.URUMI_EVENTS.*"
      {{- include "platform.natsBucket" "urumi-watcher-lease" | nindent 6 }}
  subscribe:
    allow: ["_INBOX_watcher.>"]
notifier:
  publish:
    allow:
      {{- include "platform.natsStreamInfo" . | nindent 6 }}
      # Snapshot (one tenant's statuses) and the ordered live feed.
      - "$JS.API.CONSUMER.CREATE.URUMI_EVENTS.*.urumi.evt.*.*.status"
      - "$JS.API.CONSUMER.CREATE.URUMI_EVENTS"
      {{- include "platform.natsEphemeral" . | nindent 6 }}
      - "$JS.API.CONSUMER.DELETE.URUMI_EVENTS.*"
      # Flow-control replies of the ordered (push) consumers.
      - "$JS.FC.URUMI_EVENTS.>"
  subscribe:
    allow: ["_INBOX_notifier.>"]
{{- end }}
