"""Settings refuse obviously wrong values with a message naming the CDM_ variable."""

from __future__ import annotations

import pytest

from cdm.settings import Settings, SettingsError, load_settings


def test_defaults_are_usable(monkeypatch):
    monkeypatch.delenv("CDM_DATABASE_URL", raising=False)
    s = Settings(_env_file=None)
    assert (s.mqtt_host, s.mqtt_port, s.timezone, s.guideline_edition) == ("127.0.0.1", 1883, "Asia/Shanghai", "2020")


def test_environment_variables_with_the_cdm_prefix_are_read(monkeypatch):
    monkeypatch.setenv("CDM_MQTT_URL", "mqtts://broker.example:8883")
    monkeypatch.setenv("CDM_COUNTY_CODE", "anji")
    s = Settings(_env_file=None)
    assert (s.mqtt_host, s.mqtt_port, s.mqtt_tls, s.county_code) == ("broker.example", 8883, True, "anji")


@pytest.mark.parametrize(
    ("variable", "value", "zh", "en"),
    [
        ("CDM_DATABASE_URL", "mysql://x/y", "应以 postgresql:// 开头（现为 mysql://）", "must start with postgresql://"),
        ("CDM_DATABASE_URL", "127.0.0.1:5432/cdm", "（现为 未写协议）", "(got no scheme)"),
        ("CDM_MQTT_URL", "http://127.0.0.1:1883", "应以 mqtt:// 或 mqtts:// 开头", "must start with mqtt://"),
        ("CDM_MQTT_URL", "mqtt://127.0.0.1:99999", "端口应在 0 到 65535 之间", "port outside 0-65535"),
        ("CDM_COUNTY_CODE", "Has Spaces", "小写字母", "lower-case"),
        ("CDM_TIMEZONE", "China/Beijing", "未知时区“China/Beijing”", "unknown time zone 'China/Beijing'"),
        ("CDM_GUIDELINE_EDITION", "2019", "应为 2017、2020、2025 之一", "must be one of 2017, 2020, 2025"),
        ("CDM_NOTIFY_COUNTY_URL", "ftp://x", "应为 http:// 或 https:// 地址", "must be an http:// or https://"),
        ("CDM_INGEST_BATCH_SIZE", "0", "应不小于 1", "must be at least 1"),
        ("CDM_INGEST_BATCH_SIZE", "many", "应为整数", "must be a whole number"),
    ],
)
def test_wrong_values_are_refused_naming_the_variable_in_the_county_language(monkeypatch, variable, value, zh, en):
    monkeypatch.setenv(variable, value)
    monkeypatch.delenv("CDM_LANGUAGE", raising=False)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value).startswith("配置有误，未启动：") and f"{variable}: " in str(caught.value)
    assert zh in str(caught.value)
    monkeypatch.setenv("CDM_LANGUAGE", "en")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value).startswith("invalid settings, nothing started:") and en in str(caught.value)


def test_every_wrong_variable_is_named_at_once_and_a_wrong_language_refuses_in_chinese(monkeypatch):
    monkeypatch.setenv("CDM_LANGUAGE", "fr")
    monkeypatch.setenv("CDM_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    lines = str(caught.value).splitlines()
    assert lines[0] == "配置有误，未启动："
    assert sorted(line.split(":")[0].strip() for line in lines[1:]) == ["CDM_LANGUAGE", "CDM_TIMEZONE"]
    assert "应为 zh、en 之一" in str(caught.value)
