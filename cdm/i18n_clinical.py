"""Catalogue texts of the clinical-safety rules (issue 12): reasons worded with their figures and targets, and
China-PAR's notes. Part of `cdm.i18n`. Clinical numbers are never typed here: `{bp_critical_systolic}` and the like
are filled from cdm.thresholds (cdm.i18n.t), a reason's own figures from its facts (assess.reasons)."""

from __future__ import annotations

CLINICAL: dict[str, dict[str, str]] = {
    # reasons with their facts (assess.rules -> assess.reasons)
    "reason.bp_critical.facts": {
        "zh": "最近一次 {sbp}/{dbp} mmHg（{time}），≥{bp_critical_systolic}/{bp_critical_diastolic} 需紧急转诊",
        "en": "Latest {sbp}/{dbp} mmHg ({time}); ≥{bp_critical_systolic}/{bp_critical_diastolic}: urgent referral",
    },
    "reason.bp_critical.unconfirmed": {
        "zh": "最近一次 {sbp}/{dbp} mmHg（{time}），同次测量均值 {sitting_sbp}/{sitting_dbp} mmHg"
        " 未达 ≥{bp_critical_systolic}/{bp_critical_diastolic}（复测未证实）",
        "en": "Latest {sbp}/{dbp} mmHg ({time}); the sitting's mean {sitting_sbp}/{sitting_dbp} mmHg is below"
        " ≥{bp_critical_systolic}/{bp_critical_diastolic} (not confirmed by re-measurement)",
    },
    "reason.glucose_high_critical.facts": {
        "zh": "最近一次血糖 {value} mmol/L（{time}），≥{glucose_critical_high} 需紧急转诊",
        "en": "Latest glucose {value} mmol/L ({time}); ≥{glucose_critical_high}: urgent referral",
    },
    "reason.glucose_hypo.facts": {
        "zh": "最近一次血糖 {value} mmol/L（{time}），≤{glucose_critical_low} 为低血糖，需紧急处理",
        "en": "Latest glucose {value} mmol/L ({time}); ≤{glucose_critical_low} is hypoglycaemia: urgent",
    },
    "reason.bp_above_target.facts": {
        "zh": "近{days}天均值 {sbp}/{dbp} mmHg，目标 <{target_sbp}/{target_dbp}{why}",
        "en": "{days}-day mean {sbp}/{dbp} mmHg, target <{target_sbp}/{target_dbp}{why}",
    },
    "reason.why.diabetes": {"zh": "（合并糖尿病）", "en": " (with diabetes)"},
    "reason.why.age_65": {"zh": "（老年患者）", "en": " (older patient)"},
    "reason.why.age_80": {"zh": "（高龄患者）", "en": " (very old patient)"},
    "reason.why.general": {"zh": "", "en": ""},
    "reason.bp_grade2.facts": {
        "zh": "最近一次测量均值 {sbp}/{dbp} mmHg，达2级高血压（≥{bp_grade2_systolic}/{bp_grade2_diastolic}）",
        "en": "Latest sitting {sbp}/{dbp} mmHg: grade 2 (≥{bp_grade2_systolic}/{bp_grade2_diastolic})",
    },
    "reason.glucose_fasting_high.facts": {
        "zh": "近{days}天空腹血糖均值 {mean} mmol/L，目标 {fasting_glucose_low}–{fasting_glucose_target}",
        "en": "{days}-day mean fasting glucose {mean} mmol/L, target {fasting_glucose_low}–{fasting_glucose_target}",
    },
    "reason.glucose_fasting_low": {
        "zh": "空腹血糖偏低（均值<{fasting_glucose_low} mmol/L）",
        "en": "Fasting glucose low (mean <{fasting_glucose_low} mmol/L)",
    },
    "reason.glucose_fasting_low.facts": {
        "zh": "空腹血糖偏低：近{days}天均值 {mean} mmol/L，目标 {fasting_glucose_low}–{fasting_glucose_target}",
        "en": "Fasting glucose low: {days}-day mean {mean} mmol/L, target"
        " {fasting_glucose_low}–{fasting_glucose_target}",
    },
    "reason.glucose_nonfasting_high.facts": {
        "zh": "近{days}天非空腹血糖均值 {mean} mmol/L，目标 <{nonfasting_glucose_target}",
        "en": "{days}-day mean non-fasting glucose {mean} mmol/L, target <{nonfasting_glucose_target}",
    },
    "reason.hba1c_above_target.facts": {
        "zh": "糖化血红蛋白 {value}%，目标 <{hba1c_target_percent}%",
        "en": "HbA1c {value} %, target <{hba1c_target_percent} %",
    },
    "reason.bp_not_recent": {"zh": "近期无血压测量", "en": "No recent BP reading"},
    "reason.bp_not_recent.facts": {
        "zh": "已 {since_days} 天无血压测量（需每{days}天内至少一次）",
        "en": "No BP reading for {since_days} days (at least one every {days} days)",
    },
    "reason.bp_not_recent.none": {"zh": "尚无血压测量记录", "en": "No BP reading yet"},
    "reason.glucose_not_recent": {"zh": "近期无血糖测量", "en": "No recent glucose reading"},
    "reason.glucose_not_recent.facts": {
        "zh": "已 {since_days} 天无血糖测量（需每{days}天内至少一次）",
        "en": "No glucose reading for {since_days} days (at least one every {days} days)",
    },
    "reason.glucose_not_recent.none": {"zh": "尚无血糖测量记录", "en": "No glucose reading yet"},
    "reason.monitoring_gap.facts": {"zh": "超过{days}天未测量", "en": "No reading for more than {days} days"},
    "reason.follow_up_overdue.facts": {
        "zh": "随访已逾期 {days} 天（应于 {due}）",
        "en": "Follow-up {days} days overdue (due {due})",
    },
    # China-PAR (assess.chinapar): a patient with established ASCVD, and the fields in words
    "ascvd.established": {
        "zh": "已有心脑血管疾病，不适用一级预防评估",
        "en": "Established cardiovascular disease: primary-prevention risk does not apply",
    },
    "ascvd.field.systolic": {"zh": "近期收缩压", "en": "recent systolic BP"},
    "ascvd.field.total_cholesterol_mmol": {"zh": "总胆固醇", "en": "total cholesterol"},
    "ascvd.field.hdl_mmol": {"zh": "高密度脂蛋白胆固醇", "en": "HDL cholesterol"},
    "ascvd.field.waist_cm": {"zh": "腰围", "en": "waist"},
    "ascvd.field.smoker": {"zh": "是否吸烟", "en": "smoking"},
    "ascvd.field.family_history_ascvd": {"zh": "心脑血管病家族史", "en": "family history of ASCVD"},
    "ascvd.field.urban": {"zh": "城乡", "en": "urban or rural"},
    "ascvd.field.north": {"zh": "南北方（长江以北）", "en": "north of the Yangtze"},
    "ascvd.field.on_bp_treatment": {"zh": "是否服用降压药", "en": "on BP treatment"},
    "ascvd.field.birth_date": {"zh": "出生日期", "en": "birth date"},
    # a critical BP reading its sitting did not confirm (alerts: sitting downgrade)
    "dashboard.severity.warning": {"zh": "复测未证实", "en": "Not confirmed"},
    "alert.sitting_unconfirmed": {"zh": "复测未证实", "en": "Not confirmed by re-measurement"},
    "alert.sitting_unconfirmed.title": {
        "zh": "【复测未证实】{township}{village} 患者 {patient} 的紧急血压未被同次复测证实，预警已降级",
        "en": "[NOT CONFIRMED] Patient {patient} in {village}, {township}: the urgent BP was not confirmed by its"
        " sitting; alert lowered",
    },
    "alert.sitting_unconfirmed.outcome": {
        "zh": "复测未证实：同次测量均值未达紧急转诊标准，系统自动关闭",
        "en": "Not confirmed by re-measurement: the sitting's mean was below the urgent criterion;"
        " closed by the system",
    },
}
