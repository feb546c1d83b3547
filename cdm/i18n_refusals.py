"""The command line's refusals: what `cdm alerts …`, `cdm followups record` and `cdm reminders …` say when they
will not do what was asked, and why (cdm.i18n.Refusal; printed by cdm.commands.run_in_store)."""

from __future__ import annotations

REFUSALS: dict[str, dict[str, str]] = {
    "cli.refused": {"zh": "未执行：{reason}", "en": "refused: {reason}"},
    "workflow.refused.unknown_step": {
        "zh": "没有“{move}”这一步；可用：acknowledge（确认）、act（处置）、close（关闭）",
        "en": "unknown step '{move}'; use acknowledge, act or close",
    },
    "workflow.refused.status": {
        "zh": "预警当前为“{current}”，不能再改为“{target}”",
        "en": "the alert is {current}; it cannot be {target} now",
    },
    "workflow.refused.action": {
        "zh": "处置方式应为 {actions} 之一（电话、上门、转诊）",
        "en": "action must be one of {actions}",
    },
    "workflow.refused.outcome": {
        "zh": "关闭预警须写明结果（做了什么、患者现在如何）",
        "en": "closing an alert needs an outcome (what was done and how the patient is)",
    },
    "workflow.refused.no_actor": {"zh": "请写明操作人（账号名）", "en": "say who is acting (an account name)"},
    "workflow.refused.no_alert": {"zh": "没有编号为 {alert_id} 的预警", "en": "there is no alert {alert_id}"},
    "workflow.refused.no_region": {"zh": "没有编码为“{code}”的地区", "en": "no region with code '{code}'"},
    "workflow.refused.no_team": {"zh": "没有编码为“{code}”的家庭医生团队", "en": "no care team with code '{code}'"},
    "workflow.refused.assign_closed": {
        "zh": "此预警已关闭，不能再指派",
        "en": "the alert is closed; it cannot be assigned now",
    },
    "followups.refused.class": {
        "zh": "随访分类应为 {classes} 之一",
        "en": "class must be one of {classes}",
    },
    "followups.refused.future": {"zh": "随访日期不能晚于今天", "en": "the visit date is in the future"},
    "followups.refused.next_before": {
        "zh": "下次随访日期不能早于本次随访",
        "en": "the next visit cannot be before this one",
    },
    "patient.refused.no_card": {
        "zh": "没有健康卡号为此号码的患者，请核对卡号",
        "en": "no patient with that health-card number",
    },
    "reminders.refused.times": {
        "zh": "服药时间应写作 时:分，多个用逗号分隔，例如 08:00,20:00",
        "en": "medication times are HH:MM, separated by commas, e.g. 08:00,20:00",
    },
    "reminders.refused.phone": {"zh": "手机号无法使用：{reason}", "en": "the mobile number cannot be used: {reason}"},
}
