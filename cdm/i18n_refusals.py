"""The command line's refusals: what `cdm alerts …`, `cdm followups record`, `cdm reminders …`, `cdm patients …` and
`cdm readings attribute` say when they will not do what was asked, and why (cdm.i18n.Refusal; printed by
cdm.commands.run_in_store). The device registry's and the accounts' refusals are in cdm.i18n_refusals_accounts."""

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
    "patients.refused.id_card_taken": {
        "zh": "已有另一位患者登记了这个身份证号，请核对",
        "en": "another patient already has this ID-card number",
    },
    "patients.refused.health_card_taken": {
        "zh": "已有另一位患者使用这个健康卡号，请核对",
        "en": "another patient already has this health-card number",
    },
    "patients.refused.qr_taken": {
        "zh": "已有另一位患者使用这个二维码",
        "en": "another patient already has this QR code",
    },
    "patients.refused.number_taken": {
        "zh": "已有另一位患者使用这个号码",
        "en": "another patient already has this number",
    },
    "patients.refused.other_id_card": {
        "zh": "该患者已登记了另一个身份证号，请核对",
        "en": "this patient already has another ID-card number on record",
    },
    "patients.refused.no_village": {"zh": "没有编码为“{code}”的村卫生室", "en": "no village '{code}'"},
    "patients.refused.no_team": {"zh": "没有编码为“{code}”的家庭医生团队", "en": "no family-doctor team '{code}'"},
    "patients.refused.check": {
        "zh": "患者须患高血压、糖尿病或两者都有，出生年份须在 {earliest}–{latest} 之间",
        "en": "a patient has hypertension, diabetes or both, and a birth year {earliest}-{latest}",
    },
    "attribution.refused.no_actor": {
        "zh": "请用 --by 写明您的账号：人工匹配要记入审计日志",
        "en": "say who you are (--by): staff matches are audited",
    },
    "attribution.refused.nothing_waiting": {
        "zh": "没有与此相符的待匹配读数（可能已经匹配，或设备号、序号、识别号有误）",
        "en": "no reading waiting for a patient matches that",
    },
    "attribution.refused.no_target": {
        "zh": "请指明一条读数（--meter 和 --seq）或一个识别号（--ref-scheme 和 --ref）",
        "en": "name a reading (--meter and --seq) or a reference (--ref-scheme and --ref)",
    },
    "attribution.refused.no_keys": {
        "zh": "按身份证号匹配需要身份证号密钥（CDM_ID_CARD_KEY）",
        "en": "matching by ID-card number needs the ID-card keys",
    },
    "attribution.refused.id_not_patient": {
        "zh": "测量时录入的身份证号不是该患者的，请核对后再匹配",
        "en": "the ID-card number entered at the meter is not this patient's",
    },
    "attribution.refused.id_disagrees": {
        "zh": "测量时录入的身份证号与该患者的性别或出生年份不符，请核对后再匹配",
        "en": "the ID-card number entered at the meter disagrees with the patient's sex or birth year",
    },
    "attribution.refused.id_sex": {
        "zh": "身份证号显示的性别与患者档案不符",
        "en": "the ID-card number's sex digit does not match the patient record",
    },
    "attribution.refused.id_birth_year": {
        "zh": "身份证号中的出生年份与患者档案不符",
        "en": "the ID-card number's birth year does not match the patient record",
    },
    "attribution.refused.id_shape": {
        "zh": "身份证号应为18位：17位数字加最后一位数字或X",
        "en": "an ID-card number has 18 characters: 17 digits, then a digit or X",
    },
    "attribution.refused.id_birth_date": {
        "zh": "身份证号第7–14位不是有效的出生日期",
        "en": "characters 7-14 of the ID-card number are not a valid birth date",
    },
    "attribution.refused.id_birth_range": {
        "zh": "身份证号中的出生日期早于{earliest}年或晚于今天",
        "en": "the birth date in the ID-card number is before {earliest} or in the future",
    },
    "attribution.refused.id_check": {
        "zh": "身份证号校验位不符，可能是测量时录入有误，请核对",
        "en": "the ID-card number's check character does not match (a typing error at the meter?)",
    },
}
