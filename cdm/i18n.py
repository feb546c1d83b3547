"""The one message catalogue: every word a person reads on a screen or in a message, in Chinese and English.

Look texts up with `t(key, lang)`; the language is the CDM_LANGUAGE setting (Chinese by default).
"""

from __future__ import annotations

CATALOGUE: dict[str, dict[str, str]] = {
    # colours
    "colour.green": {"zh": "绿", "en": "Green"},
    "colour.yellow": {"zh": "黄", "en": "Yellow"},
    "colour.red": {"zh": "红", "en": "Red"},
    # assessment reason codes (models.rules)
    "reason.bp_critical": {"zh": "血压达到紧急转诊标准（≥180/110 mmHg）", "en": "BP at urgent-referral level (≥180/110 mmHg)"},
    "reason.glucose_high_critical": {"zh": "血糖≥16.7 mmol/L，需紧急转诊", "en": "Glucose ≥16.7 mmol/L: urgent referral"},
    "reason.glucose_hypo": {"zh": "血糖≤3.9 mmol/L（低血糖），需紧急处理", "en": "Glucose ≤3.9 mmol/L (hypoglycaemia): urgent"},
    "reason.uncontrolled_2x": {"zh": "连续两次随访控制不满意", "en": "Uncontrolled at two follow-ups in a row"},
    "reason.complication": {"zh": "随访记录新发或加重的并发症", "en": "New or worse complication recorded at follow-up"},
    "reason.bp_above_target": {"zh": "近期血压均值未达标", "en": "Recent mean BP above target"},
    "reason.bp_grade2": {"zh": "最近一次血压为2级高血压", "en": "Latest BP at grade 2"},
    "reason.glucose_fasting_high": {"zh": "近期空腹血糖均值≥7.0 mmol/L", "en": "Recent mean fasting glucose ≥7.0 mmol/L"},
    "reason.glucose_nonfasting_high": {"zh": "近期非空腹血糖均值≥10.0 mmol/L", "en": "Recent mean non-fasting glucose ≥10.0 mmol/L"},
    "reason.monitoring_gap": {"zh": "超过监测间隔未测量", "en": "No reading within the monitoring interval"},
    "reason.follow_up_overdue": {"zh": "随访已逾期", "en": "Follow-up overdue"},
    "reason.at_target": {"zh": "控制达标，监测按时", "en": "At target and monitored"},
    # quarantine reason codes (ingest.validate)
    "quarantine.not_utf8": {"zh": "消息不是UTF-8编码", "en": "Message is not UTF-8"},
    "quarantine.invalid_json": {"zh": "消息不是合法JSON", "en": "Message is not valid JSON"},
    "quarantine.payload_too_large": {"zh": "消息过大", "en": "Message too large"},
    "quarantine.unsupported_version": {"zh": "不支持的消息版本", "en": "Unsupported message version"},
    "quarantine.schema_invalid": {"zh": "字段缺失或类型错误", "en": "Missing field or wrong type"},
    "quarantine.wrong_unit": {"zh": "单位错误", "en": "Wrong unit"},
    "quarantine.implausible_value": {"zh": "数值超出生理范围", "en": "Value outside physiological range"},
    "quarantine.sbp_not_above_dbp": {"zh": "收缩压不高于舒张压", "en": "Systolic not above diastolic"},
    "quarantine.measured_in_future": {"zh": "测量时间晚于当前时间", "en": "Measurement time in the future"},
    "quarantine.measured_too_old": {"zh": "测量时间早于设备缓存期限", "en": "Measurement older than the meter's buffer"},
    "quarantine.unknown_device": {"zh": "未登记的设备", "en": "Unknown device"},
    "quarantine.topic_mismatch": {"zh": "主题中的设备与消息不符", "en": "Topic names another device"},
    "quarantine.bad_topic": {"zh": "主题格式错误", "en": "Malformed topic"},
    "quarantine.device_kind_mismatch": {"zh": "设备类型与读数类型不符", "en": "Reading kind does not match the meter"},
    "quarantine.store_error": {"zh": "入库失败", "en": "Could not be stored"},
    # alerts and notifications
    "alert.turned_red.title": {"zh": "【红色预警】{township}{village} 患者 {patient} 转为红色",
                               "en": "[RED] Patient {patient} in {village}, {township} turned red"},
    "alert.recipient.township": {"zh": "乡镇卫生院", "en": "Township health centre"},
    "alert.recipient.county": {"zh": "县慢病中心", "en": "County chronic-disease centre"},
    "alert.status.open": {"zh": "待处理", "en": "Open"},
    "alert.status.acknowledged": {"zh": "已确认", "en": "Acknowledged"},
    "alert.status.actioned": {"zh": "已处置", "en": "Actioned"},
    "alert.status.closed": {"zh": "已关闭", "en": "Closed"},
}


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text for `key` in `lang` (falling back to Chinese, then to the key itself), with values filled in."""
    entry = CATALOGUE.get(key)
    text = key if entry is None else entry.get(lang) or entry["zh"]
    return text.format(**values) if values else text
