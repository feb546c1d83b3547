"""The one message catalogue: every word a person reads on a screen or in a message, in Chinese and English.

Look texts up with `t(key, lang)`; the language is the CDM_LANGUAGE setting (Chinese by default), or on the screens
the one each person chose with the switch 中文 / English (`dashboard.language`). The words of
the screens live in `cdm.i18n_screens`; both parts form the one catalogue, and a key may stand in only one.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdm.i18n_admin import ADMIN
from cdm.i18n_clinical import CLINICAL
from cdm.i18n_county import COUNTY
from cdm.i18n_exports import EXPORTS
from cdm.i18n_language import LANGUAGE
from cdm.i18n_ops import OPS
from cdm.i18n_refusals import REFUSALS
from cdm.i18n_refusals_accounts import ACCOUNT_REFUSALS
from cdm.i18n_registry import REGISTRY
from cdm.i18n_screens import SCREENS
from cdm.i18n_security import SECURITY
from cdm.i18n_work import WORK
from cdm.thresholds import (
    MODEL_HORIZON_DAYS,
    PROGRAMME_BP_CONTROLLED_BELOW,
    PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL,
    PROGRAMME_RECENT_DAYS,
    PROGRAMME_VISITS_PER_YEAR,
    PROGRAMME_YEAR_DAYS,
    ROUTINE_FOLLOW_UP_DAYS,
    SHORT_FOLLOW_UP_DAYS,
    Thresholds,
)

_MESSAGES: dict[str, dict[str, str]] = {
    # colours
    "colour.green": {"zh": "绿", "en": "Green"},
    "colour.yellow": {"zh": "黄", "en": "Yellow"},
    "colour.red": {"zh": "红", "en": "Red"},
    # assessment reason codes (assess.rules)
    "reason.bp_critical": {
        "zh": "血压达到紧急转诊标准（≥{bp_critical_systolic}/{bp_critical_diastolic} mmHg）",
        "en": "BP at urgent-referral level (≥{bp_critical_systolic}/{bp_critical_diastolic} mmHg)",
    },
    "reason.glucose_high_critical": {
        "zh": "血糖≥{glucose_critical_high} mmol/L，需紧急转诊",
        "en": "Glucose ≥{glucose_critical_high} mmol/L: urgent referral",
    },
    "reason.glucose_hypo": {
        "zh": "血糖≤{glucose_critical_low} mmol/L（低血糖），需紧急处理",
        "en": "Glucose ≤{glucose_critical_low} mmol/L (hypoglycaemia): urgent",
    },
    "reason.uncontrolled_2x": {"zh": "连续两次随访控制不满意", "en": "Uncontrolled at two follow-ups in a row"},
    "reason.complication": {
        "zh": "随访记录新发或加重的并发症",
        "en": "New or worse complication recorded at follow-up",
    },
    "reason.bp_above_target": {"zh": "近期血压均值未达标", "en": "Recent mean BP above target"},
    "reason.bp_grade2": {"zh": "最近一次血压为2级高血压", "en": "Latest BP at grade 2"},
    "reason.glucose_fasting_high": {
        "zh": "近期空腹血糖均值≥{fasting_glucose_target} mmol/L",
        "en": "Recent mean fasting glucose ≥{fasting_glucose_target} mmol/L",
    },
    "reason.glucose_nonfasting_high": {
        "zh": "近期非空腹血糖均值≥{nonfasting_glucose_target} mmol/L",
        "en": "Recent mean non-fasting glucose ≥{nonfasting_glucose_target} mmol/L",
    },
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
    "quarantine.measured_too_old": {
        "zh": "测量时间早于设备缓存期限",
        "en": "Measurement older than the meter's buffer",
    },
    "quarantine.unknown_device": {"zh": "未登记的设备", "en": "Unknown device"},
    "quarantine.topic_mismatch": {"zh": "主题中的设备与消息不符", "en": "Topic names another device"},
    "quarantine.bad_topic": {"zh": "主题格式错误", "en": "Malformed topic"},
    "quarantine.device_kind_mismatch": {"zh": "设备类型与读数类型不符", "en": "Reading kind does not match the meter"},
    "quarantine.store_error": {"zh": "入库失败", "en": "Could not be stored"},
    "quarantine.bad_status": {"zh": "设备状态消息格式错误", "en": "Malformed meter status message"},
    "quarantine.bad_heartbeat": {"zh": "设备心跳消息格式错误", "en": "Malformed meter heartbeat"},
    "quarantine.bad_id_card": {"zh": "身份证号有误（校验位或出生日期不符）", "en": "ID-card number is wrong"},
    # meters' online state (device.status, device.status_reason)
    "device.status.online": {"zh": "在线", "en": "Online"},
    "device.status.offline": {"zh": "离线", "en": "Offline"},
    "device.status.unknown": {"zh": "未知", "en": "Unknown"},
    "device.reason.status": {"zh": "设备上报", "en": "Reported by the meter"},
    "device.reason.will": {"zh": "连接意外中断", "en": "Connection lost"},
    "device.reason.heartbeat": {"zh": "收到心跳", "en": "Heartbeat received"},
    "device.reason.reading": {"zh": "收到读数", "en": "Reading received"},
    "device.reason.silent": {"zh": "超过心跳间隔未上报", "en": "Silent past its heartbeat interval"},
    # readings waiting for a patient (reading_unattributed.reason)
    "unattributed.no_reference": {"zh": "未录入患者标识", "en": "No patient reference entered"},
    "unattributed.no_match": {"zh": "患者标识未匹配到登记患者", "en": "Reference matches no registered patient"},
    "unattributed.identity_mismatch": {
        "zh": "身份证号的性别或出生年份与患者档案不符",
        "en": "ID card's sex or birth year disagrees with the patient record",
    },
    # alerts and notifications
    "alert.turned_red.title": {
        "zh": "【红色预警】{township}{village} 患者 {patient} 转为红色",
        "en": "[RED] Patient {patient} in {village}, {township} turned red",
    },
    "alert.recipient.township": {"zh": "乡镇卫生院", "en": "Township health centre"},
    "alert.recipient.county": {"zh": "县慢病中心", "en": "County chronic-disease centre"},
    "alert.status.open": {"zh": "待处理", "en": "Open"},
    "alert.status.acknowledged": {"zh": "已确认", "en": "Acknowledged"},
    "alert.status.actioned": {"zh": "已处置", "en": "Actioned"},
    "alert.status.closed": {"zh": "已关闭", "en": "Closed"},
    "alert.recipient.county_on_duty": {"zh": "县慢病中心值班人员", "en": "County centre, person on duty"},
    "alert.recipient.team": {"zh": "家庭医生团队", "en": "Family-doctor team"},
    "followup.class.controlled": {"zh": "控制满意", "en": "Controlled"},
    "followup.class.uncontrolled": {"zh": "控制不满意", "en": "Uncontrolled"},
    "followup.class.adverse_reaction": {"zh": "药物不良反应", "en": "Adverse drug reaction"},
    "followup.class.complication": {"zh": "并发症", "en": "Complication"},
    "alert.escalated.prefix": {"zh": "【升级·乡镇未及时确认】", "en": "[ESCALATED: not acknowledged] "},
    # patient reminders (alerts.reminders.logic); {sign} is the SMS signature, CDM_SMS_SIGN_NAME
    "reminder.title.measure": {"zh": "测量提醒", "en": "Time to measure"},
    "reminder.title.follow_up": {"zh": "随访提醒", "en": "Follow-up reminder"},
    "reminder.title.medication": {"zh": "服药提醒", "en": "Medication reminder"},
    "reminder.measure": {
        "zh": "【{sign}】您已{days}天未测量{what}，请到村卫生室测量。",
        "en": "[{sign}] You have not measured your {what} for {days} days. Please measure at the village clinic.",
    },
    "reminder.follow_up": {
        "zh": "【{sign}】您的慢病随访在{when}（{date}），请按时到村卫生室随访。",
        "en": "[{sign}] Your chronic-disease follow-up is {when} ({date}). Please come to the village clinic on time.",
    },
    "reminder.medication": {
        "zh": "【{sign}】现在是{time}，请按医嘱服药。",
        "en": "[{sign}] It is {time}: please take your medicine as prescribed.",
    },
    "reminder.what.bp": {"zh": "血压", "en": "blood pressure"},
    "reminder.what.glucose": {"zh": "血糖", "en": "blood glucose"},
    "reminder.and": {"zh": "和", "en": " and "},
    "reminder.when.today": {"zh": "今天", "en": "today"},
    "reminder.when.tomorrow": {"zh": "明天", "en": "tomorrow"},
    "reminder.date": {"zh": "{month}月{day}日", "en": "{iso}"},
    # China-PAR 10-year ASCVD risk (assess.chinapar)
    "ascvd.title": {"zh": "10年动脉粥样硬化性心血管病风险（China-PAR）", "en": "10-year ASCVD risk (China-PAR)"},
    "ascvd.low": {"zh": "低危", "en": "Low risk"},
    "ascvd.medium": {"zh": "中危", "en": "Medium risk"},
    "ascvd.high": {"zh": "高危", "en": "High risk"},
    "ascvd.missing": {
        "zh": "缺少计算所需的信息，未计算：{fields}",
        "en": "Not computed: missing {fields}",
    },
    "ascvd.age_out_of_range": {
        "zh": "年龄{age}岁，China-PAR仅适用于{low}–{high}岁，未计算",
        "en": "Age {age}: China-PAR applies to ages {low}–{high} only; not computed",
    },
    # reason codes proposed for the complete rules (issue 4); texts ready for assess.rules
    "reason.hba1c_above_target": {
        "zh": "糖化血红蛋白≥{hba1c_target_percent}%，未达标",
        "en": "HbA1c ≥{hba1c_target_percent} %: above target",
    },
    "reason.glucose_hypo_level1": {
        "zh": "1级低血糖（{hypo_level2}–{hypo_level1} mmol/L）",
        "en": "Level 1 hypoglycaemia ({hypo_level2}–{hypo_level1} mmol/L)",
    },
    "reason.glucose_hypo_level2": {
        "zh": "2级低血糖（<{hypo_level2} mmol/L）",
        "en": "Level 2 hypoglycaemia (<{hypo_level2} mmol/L)",
    },
    "reason.complications_recorded": {"zh": "健康档案记录有并发症", "en": "Complications in the health record"},
    "reason.heart_rate_high": {
        "zh": "心率持续>{heart_rate_urgent_per_min}次/分，需紧急转诊",
        "en": "Heart rate persistently >{heart_rate_urgent_per_min}/min: urgent referral",
    },
    # cdm assess --file (assess.cli)
    "assess.error": {"zh": "病例文件有误：{detail}", "en": "Case file error: {detail}"},
    "reason.model_risk": {
        "zh": "风险模型提示：{model_horizon_days}天内转红或持续控制不佳的可能性较高",
        "en": "Risk model: high chance of turning red or staying uncontrolled within {model_horizon_days} days",
    },
}


def _merged(*parts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for part in parts:
        twice = merged.keys() & part.keys()
        if twice:
            raise RuntimeError(f"message keys defined twice in the catalogue: {sorted(twice)}")
        merged.update(part)
    return merged


# The numbers texts may name: every threshold that is the same in all editions, and the programme's definitions.
THRESHOLD_VALUES: dict[str, object] = {
    **{name: value for name, value in vars(Thresholds).items() if isinstance(value, int | float) and name[0] != "_"},
    "programme_sbp": PROGRAMME_BP_CONTROLLED_BELOW.systolic,
    "programme_dbp": PROGRAMME_BP_CONTROLLED_BELOW.diastolic,
    "programme_fasting": PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL,
    "programme_days": PROGRAMME_RECENT_DAYS,
    "programme_year_days": PROGRAMME_YEAR_DAYS,
    "programme_visits": PROGRAMME_VISITS_PER_YEAR,
    "routine_follow_up_days": ROUTINE_FOLLOW_UP_DAYS,
    "short_follow_up_days": SHORT_FOLLOW_UP_DAYS,
    "model_horizon_days": MODEL_HORIZON_DAYS,
}

CATALOGUE: dict[str, dict[str, str]] = _merged(
    _MESSAGES, SCREENS, SECURITY, REGISTRY, EXPORTS, OPS, CLINICAL, WORK, COUNTY, ADMIN, LANGUAGE, REFUSALS,
    ACCOUNT_REFUSALS,
)


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text for `key` in `lang` (falling back to Chinese, then to the key itself), with values filled in; the
    clinical numbers (`{bp_critical_systolic}`, `{programme_days}` …) come from cdm.thresholds unless given."""
    entry = CATALOGUE.get(key)
    text = key if entry is None else entry.get(lang) or entry["zh"]
    if "{" not in text:
        return text
    if values:
        return text.format_map({**THRESHOLD_VALUES, **values})
    try:
        return text.format_map(THRESHOLD_VALUES)
    except (KeyError, ValueError, IndexError):  # a text whose own values the caller did not give: as it stands
        return text


@dataclass(frozen=True, slots=True)
class Term:
    """A value of a message that is itself a catalogue word (a status, a colour): worded in the reader's language."""

    key: str

    def text(self, lang: str) -> str:
        return t(self.key, lang)


@dataclass(frozen=True, slots=True)
class Terms:
    """A value of a message made of several catalogue words, each with the same values, joined (a password's
    problems: 密码长度不足；密码过于常见)."""

    keys: tuple[str, ...]
    values: tuple[tuple[str, object], ...] = ()
    sep: str = "；"

    def text(self, lang: str) -> str:
        return self.sep.join(t(key, lang, **dict(self.values)) for key in self.keys)


class Refusal(ValueError):
    """A request refused for a reason the person can act on, as a catalogue key and its values: each reader gets it
    in their language (`text`); `str()` is the Chinese, for a log or a caller that does not know the language."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(self.text("zh"))

    def text(self, lang: str) -> str:
        worded = {k: v.text(lang) if isinstance(v, Term | Terms) else v for k, v in self.values.items()}
        return t(self.key, lang, **worded)
