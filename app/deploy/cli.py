"""`cdm deploy render --out DIR`: the county's deployment files from the settings (docs/deploying.md)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from app.deploy.logic import PatroniCluster, PatroniNode
from cdm.i18n import t

deploy_app = typer.Typer(no_args_is_help=True, help="Deployment files: systemd, Mosquitto, nginx, PostgreSQL, backups")
PATRONI_SECRETS = ("superuser_password", "replication_password", "rewind_password")


def _nodes(specs: list[str], lang: str) -> tuple[PatroniNode, ...]:
    nodes = []
    for spec in specs:
        name, sep, where = spec.partition("=")
        host, _, port = where.partition(":")
        if not (sep and name and host) or (port and not port.isdigit()):
            typer.echo(t("ops.deploy.bad_node", lang, value=spec), err=True)
            raise typer.Exit(2)
        nodes.append(PatroniNode(name=name, host=host, pg_port=int(port or 5432)))
    if len(nodes) == 1:
        typer.echo(t("ops.deploy.one_node", lang), err=True)
        raise typer.Exit(2)
    return tuple(nodes)


def patroni_secrets(path: Path) -> dict[str, str]:
    """The Patroni cluster's database passwords, made once and kept (0600) so every render reuses them."""
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    made = {key: secrets.token_urlsafe(24) for key in PATRONI_SECRETS}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(made, fh)
    return made


def _assets_dir() -> str:
    import dashboard

    return str(Path(dashboard.__file__).resolve().parent / "assets")


@deploy_app.command("render")
def render_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="folder to write into (laid out like the server's /)")],
    server_name: Annotated[str, typer.Option(help="host name of the screens (nginx, TLS)")] = "cdm.example.gov.cn",
    ingest_instances: Annotated[int, typer.Option(min=1, max=64, help="ingest workers sharing the stream")] = 2,
    memory_gb: Annotated[int, typer.Option(min=1, help="memory of the database server")] = 16,
    cores: Annotated[int, typer.Option(min=1, help="cores of the database server")] = 8,
    cdm_bin: Annotated[str, typer.Option(help="the installed `cdm` command")] = "/opt/cdm/venv/bin/cdm",
    root: Annotated[str, typer.Option(help="prefix of every path the files name (testing, staging)")] = "",
    mqtt_tls_port: Annotated[int, typer.Option(help="the meters' TLS listener")] = 8883,
    mqtt_local_port: Annotated[int, typer.Option(help="loopback listener for ingest; 0: none")] = 1883,
    mosquitto_user: Annotated[str, typer.Option(help="user Mosquitto runs as")] = "mosquitto",
    pg_port: Annotated[int, typer.Option(help="PostgreSQL's port (backups connect to it)")] = 5432,
    timescaledb: Annotated[bool, typer.Option(help="the server has the TimescaleDB extension")] = False,
    db_node: Annotated[
        list[str] | None, typer.Option(help="a Patroni node, name=host[:port]; give two or more")
    ] = None,
    etcd: Annotated[list[str] | None, typer.Option(help="an etcd endpoint host:port (Patroni)")] = None,
) -> None:
    """Render the systemd units, Mosquitto and nginx configuration, environment file, PostgreSQL, backup and
    Patroni settings and Prometheus rules for this county into OUT."""
    from app.deploy.logic import Deployment, warnings
    from app.deploy.service import render_to
    from app.deploy.sizing import Machine

    settings = ctx.obj
    lang = settings.language
    patroni = None
    if db_node:
        secrets_file = out / "patroni-secrets.json"  # not part of the tree to copy: keep it with the rendered files
        kept = patroni_secrets(secrets_file)
        patroni = PatroniCluster(
            nodes=_nodes(db_node, lang),
            etcd_hosts=tuple(etcd or ["127.0.0.1:2379"]),
            service_user=settings.db_runtime_role,
            superuser_password=kept["superuser_password"],
            replication_password=kept["replication_password"],
            rewind_password=kept["rewind_password"],
        )
    deployment = Deployment(
        server_name=server_name,
        ingest_instances=ingest_instances,
        cdm_bin=cdm_bin,
        root=root,
        machine=Machine(memory_gb=memory_gb, cores=cores, ingest_instances=ingest_instances),
        mqtt_tls_port=mqtt_tls_port,
        mqtt_local_port=mqtt_local_port or None,
        mosquitto_user=mosquitto_user,
        pg_port=pg_port,
        timescaledb=timescaledb,
        assets_dir=_assets_dir(),
        patroni=patroni,
    )
    written = render_to(out, settings, deployment)
    for variable in warnings(settings, deployment):
        typer.echo(t(f"ops.deploy.warn.{variable}", lang), err=True)
    typer.echo(t("ops.deploy.written", lang, count=len(written), out=out))
