"""The provisioner's `URUMI_*` settings (the common ones in `services.runtime.settings`)."""

from typing import ClassVar

from services.runtime.settings import Port, Positive, Seconds, Settings, TlsMode, store_tls


class ProvisionerSettings(Settings, frozen=True):
    secret_fields: ClassVar[frozenset[str]] = frozenset({"backup_secret_access_key"})

    # Empty: the pod's service account, else $KUBECONFIG or ~/.kube/config.
    kubeconfig: str = ""
    provision_concurrency: Positive = 8
    # deploy/render: Helm's chart rendering as one long-running process.
    render_binary: str = "urumi-render"
    charts_dir: str = ""
    # An operator's engine releases, merged over the catalog shipped in charts_dir
    # (services/runtime/releases.py); the gateway reads the same file.
    releases_file: str = ""
    # What every store's chart values get (see services.provisioner.values).
    base_domain: str = "127.0.0.1.nip.io"
    # The port the ingress serves stores on, named in their URLs (0: the
    # scheme's default; the devcluster's real node serves on a loopback port).
    store_port: Port = 0
    ingress_class: str = "nginx"
    tls_issuer: str = ""
    tls_mode: TlsMode = ""
    # Where the ingress controller runs: the only namespace allowed to reach a
    # store's web tier.
    ingress_namespace: str = "ingress-nginx"
    # Where a sleeping store's ingress sends its visitors: the gateway, which
    # answers with the "asleep" page (a DNS name: the platform chart sets the
    # gateway Service's; `urumi dev` runs the gateway on this host).
    sleep_page_host: str = "localhost"
    sleep_page_port: Port = 8080
    # An optional directory of operator overrides for store charts (images,
    # storage class, network policy): `all.yaml` for every engine, `<engine>.yaml`
    # for one (it wins); per-store values win over both.
    store_values_dir: str = ""
    # Self-healing: stop restoring a store restored fight_limit times within
    # fight_window_s, and say so (the watcher asks for the restores).
    selfheal_fight_limit: Positive = 5
    selfheal_fight_window_s: Seconds = 600.0
    # The platform's object storage, where store backups go (S3-compatible;
    # backups are off while backup_bucket is empty): each store's under
    # <backup_prefix>/<store>/. The keys are copied into every store's
    # namespace as the Secret its backup Jobs read (the platform chart takes
    # them from the operator's Secret); never values, logs or events.
    backup_endpoint: str = ""
    backup_bucket: str = ""
    backup_prefix: str = ""
    backup_region: str = ""
    backup_access_key_id: str = ""
    backup_secret_access_key: str = ""

    def store_tls(self) -> str:
        return store_tls(self.tls_mode, self.tls_issuer)
