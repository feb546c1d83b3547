"""PostgreSQL settings for a county's server, from its size (pure: numbers in, parameters out).

The figures behind the rules of thumb are the project's own (docs/deploying.md, "Capacity"): a county's meters send
well under 10 readings a second, so the server is sized for the nightly rescore, the screens' queries and
the disk, not for ingest. Every parameter here is also what Patroni writes on both nodes of a failover pair.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1
GB = 1024 * MB
# Connections each process opens at most: ingest 1; worker = dispatcher 2 + scheduler lock 1 + job store pool 5
# (SQLAlchemy's default) + jobs 2 + the nightly rescore's 2 processes; dashboard pool 4 per server process;
# metrics exporter 1; and room for staff (psql, `cdm` commands) and Patroni's own.
WORKER_CONNECTIONS = 12
DASHBOARD_CONNECTIONS = 4
SPARE_CONNECTIONS = 30


@dataclass(frozen=True)
class Machine:
    """The database server: memory, cores, and how the services use it."""

    memory_gb: int = 16
    cores: int = 8
    ingest_instances: int = 2
    dashboard_processes: int = 2
    workers: int = 1  # `cdm worker` processes (more than one: standbys for the scheduler, extra dispatchers)


def connections(machine: Machine) -> int:
    """max_connections: every process's pool at its largest, plus spare, rounded up to a multiple of 10."""
    need = (
        machine.ingest_instances
        + machine.workers * WORKER_CONNECTIONS
        + machine.dashboard_processes * DASHBOARD_CONNECTIONS
        + 1
        + SPARE_CONNECTIONS
    )
    return max(100, -(-need // 10) * 10)


def _mb(value: int) -> str:
    return f"{value // GB}GB" if value % GB == 0 else f"{value}MB"


def parameters(machine: Machine, *, archive_command: str | None, timescaledb: bool = False) -> dict[str, str]:
    """postgresql.conf parameters for this machine (values as PostgreSQL writes them)."""
    memory = machine.memory_gb * GB
    params = {
        "max_connections": str(connections(machine)),
        # A quarter of memory for PostgreSQL's cache (the kernel's cache holds the rest), as PostgreSQL's docs advise.
        "shared_buffers": _mb(min(memory // 4, 16 * GB)),
        "effective_cache_size": _mb(memory * 3 // 4),
        "maintenance_work_mem": _mb(min(memory // 16, 2 * GB)),
        "work_mem": "32MB",  # the rescore asks 64MB for its own transactions (assess.rescore_all)
        "max_worker_processes": str(max(8, machine.cores)),
        "max_parallel_workers": str(machine.cores),
        "max_parallel_workers_per_gather": str(max(1, min(4, machine.cores // 2))),
        "random_page_cost": "1.1",  # SSD
        "effective_io_concurrency": "200",
        "wal_level": "replica",
        "max_wal_senders": "10",
        "max_replication_slots": "10",
        "wal_log_hints": "on",  # pg_rewind can bring a failed primary back as a standby
        "max_wal_size": "4GB",
        "min_wal_size": "1GB",
        "checkpoint_timeout": "15min",
        "checkpoint_completion_target": "0.9",
        # An alert is as durable as its reading: a commit waits for the disk (and, under Patroni, the standby).
        "synchronous_commit": "on",
        "log_min_duration_statement": "1000",
        "log_lock_waits": "on",
        "log_checkpoints": "on",
        "log_autovacuum_min_duration": "10000",
        "log_line_prefix": "'%m [%p] %q%u@%d/%a '",
    }
    if archive_command:
        # A finished WAL segment goes to the backup repository at once; a quiet server still switches segments
        # every minute, so a lost server loses at most a minute of what the standby (if any) did not have.
        params |= {"archive_mode": "on", "archive_command": f"'{archive_command}'", "archive_timeout": "60"}
    if timescaledb:
        params |= {"shared_preload_libraries": "'timescaledb'", "timescaledb.max_background_workers": "8"}
    return params
