"""The operations part of the message catalogue: what `cdm deploy`, `cdm health` and `cdm metrics` tell people."""

from __future__ import annotations

OPS: dict[str, dict[str, str]] = {
    "ops.deploy.written": {
        "zh": "已生成 {count} 个部署文件于 {out}（按服务器目录排列；安装步骤见 docs/deploying.md）",
        "en": "wrote {count} deployment files under {out} (laid out as on the server; install: docs/deploying.md)",
    },
    "ops.deploy.warn.CDM_ENV": {
        "zh": "注意：CDM_ENV 不是 production，开发用密钥不会被拒绝；上线前请设为 production",
        "en": "note: CDM_ENV is not production, so development secrets are not refused; set it before going live",
    },
    "ops.deploy.warn.CDM_DATABASE_URL": {
        "zh": "注意：未设置 CDM_DATABASE_URL，环境文件中的数据库地址为空",
        "en": "note: CDM_DATABASE_URL is not set; the environment file names no store",
    },
    "ops.deploy.warn.CDM_MQTT_URL": {
        "zh": "注意：CDM_MQTT_URL 指向另一台机器却未用 mqtts://（TLS）",
        "en": "note: CDM_MQTT_URL points at another machine without mqtts:// (TLS)",
    },
    "ops.deploy.bad_node": {
        "zh": "--db-node 应写成 名称=主机[:端口]，例如 pg1=10.0.0.11：{value}",
        "en": "--db-node takes name=host[:port], e.g. pg1=10.0.0.11: {value}",
    },
    "ops.deploy.one_node": {
        "zh": "Patroni 至少需要两台数据库服务器（两个 --db-node）",
        "en": "Patroni needs at least two database servers (two --db-node options)",
    },
}
