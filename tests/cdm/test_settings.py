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
    ("variable", "value", "says"),
    [
        ("CDM_DATABASE_URL", "mysql://x/y", "postgresql://"),
        ("CDM_MQTT_URL", "http://127.0.0.1:1883", "mqtt://"),
        ("CDM_MQTT_URL", "mqtt://127.0.0.1:99999", "port"),
        ("CDM_COUNTY_CODE", "Has Spaces", "lower-case"),
        ("CDM_TIMEZONE", "China/Beijing", "time zone"),
        ("CDM_GUIDELINE_EDITION", "2019", "2017"),
        ("CDM_NOTIFY_COUNTY_URL", "ftp://x", "http"),
        ("CDM_INGEST_BATCH_SIZE", "0", "greater than"),
    ],
)
def test_wrong_values_are_refused_naming_the_variable(monkeypatch, variable, value, says):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert variable in str(caught.value) and says in str(caught.value)
