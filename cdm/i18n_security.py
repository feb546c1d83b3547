"""The words of security: refusals of bad meter messages named by the security review, the log-in page's throttle
and sessions, password strength, in Chinese and English. Part of the one catalogue, `cdm.i18n`."""

from __future__ import annotations

SECURITY: dict[str, dict[str, str]] = {
    "quarantine.nul_character": {
        "zh": "消息含有NUL空字符（\\u0000），任何字段都不允许",
        "en": "Message holds a NUL character (\\u0000), which no field may contain",
    },
    "quarantine.duplicate_key": {
        "zh": "同一字段出现两次（如两个收缩压），数值含糊，不予入库",
        "en": "A key appears twice (e.g. two systolic values): ambiguous, not stored",
    },
    "quarantine.other_county": {
        "zh": "消息发往其他县的主题，本系统不入库",
        "en": "Message on another county's topic; not stored here",
    },
    "quarantine.status_time_out_of_range": {
        "zh": "设备状态时间不合理（早于2000年或晚于当前），请检查设备时钟",
        "en": "Meter status time out of range (before 2000 or in the future): check the meter's clock",
    },
}
