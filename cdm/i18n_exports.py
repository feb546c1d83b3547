"""The words of what the county's data becomes for others and of the first sign-in of an imported account: the
FHIR export's texts, the monthly report's sheets and definitions, the password change. Part of `cdm.i18n`."""

from __future__ import annotations

EXPORTS: dict[str, dict[str, str]] = {
    # FHIR export (registry.fhir)
    "fhir.identifier.record": {"zh": "健康档案号", "en": "Health-record number"},
    "fhir.identifier.card": {"zh": "居民健康卡号", "en": "Health card"},
    "fhir.identifier.id_card_masked": {"zh": "居民身份证号（脱敏）", "en": "ID-card number (masked)"},
    "fhir.condition.hypertension": {"zh": "高血压", "en": "Hypertension"},
    "fhir.condition.diabetes": {"zh": "2型糖尿病", "en": "Type 2 diabetes"},
    "fhir.device.bp": {"zh": "血压计", "en": "Blood-pressure meter"},
    "fhir.device.glucose": {"zh": "血糖仪", "en": "Glucose meter"},
    "fhir.encounter.follow_up": {"zh": "慢病随访", "en": "Chronic-disease follow-up"},
    "fhir.follow_up.controlled": {"zh": "控制满意", "en": "Controlled"},
    "fhir.follow_up.uncontrolled": {"zh": "控制不满意", "en": "Uncontrolled"},
    "fhir.follow_up.adverse_reaction": {"zh": "不良反应", "en": "Adverse drug reaction"},
    "fhir.follow_up.complication": {"zh": "并发症", "en": "Complication"},
    "fhir.risk.colour_outcome": {"zh": "慢病管理红黄绿分级", "en": "Traffic-light grade of chronic-disease care"},
    "fhir.risk.ascvd_outcome": {
        "zh": "10年动脉粥样硬化性心血管病风险（China-PAR）",
        "en": "10-year ASCVD risk (China-PAR)",
    },
    "fhir.risk.method": {
        "zh": "国家基层高血压、糖尿病管理规则（{edition}版）",
        "en": "National primary-care rules ({edition})",
    },
    # the monthly report (dashboard.report)
    "report.sheet.county": {"zh": "全县", "en": "County"},
    "report.sheet.definitions": {"zh": "指标说明", "en": "Definitions"},
    "report.title": {
        "zh": "{area} {month} 高血压、2型糖尿病患者健康管理月报",
        "en": "{area}: chronic-disease report {month}",
    },
    "report.as_of": {"zh": "统计时点：{at}（北京时间）", "en": "Figures as of {at} (China time)"},
    "report.col.indicator": {"zh": "指标", "en": "Indicator"},
    "report.col.numerator": {"zh": "分子", "en": "Numerator"},
    "report.col.denominator": {"zh": "分母", "en": "Denominator"},
    "report.col.value": {"zh": "数值/率", "en": "Value / rate"},
    "report.col.definition": {"zh": "定义", "en": "Definition"},
    "report.row.managed": {"zh": "在管人数", "en": "Patients under management"},
    "report.row.managed_hypertension": {"zh": "其中高血压", "en": "of whom hypertension"},
    "report.row.managed_diabetes": {"zh": "其中2型糖尿病", "en": "of whom type 2 diabetes"},
    "report.row.standard_management": {"zh": "规范管理率", "en": "Standardised management rate"},
    "report.row.bp_control": {"zh": "血压控制率", "en": "BP control rate"},
    "report.row.glucose_control": {"zh": "血糖控制率", "en": "Glucose control rate"},
    "report.row.visits": {"zh": "随访人次", "en": "Follow-up visits"},
    "report.row.missed_visit_3m": {"zh": "3个月未随访率", "en": "Missed visits (3 months)"},
    "report.row.lost_12m": {"zh": "失访率（12个月）", "en": "Lost to follow-up (12 months)"},
    "report.def.managed": {
        "zh": "统计时点已纳入管理（纳入管理日期不晚于统计时点）的高血压、2型糖尿病患者人数",
        "en": "Patients whose management began at or before the moment of the figures",
    },
    "report.def.managed_hypertension": {"zh": "在管人数中患高血压者", "en": "Of them, with hypertension"},
    "report.def.managed_diabetes": {"zh": "在管人数中患2型糖尿病者", "en": "Of them, with type 2 diabetes"},
    "report.def.standard_management": {
        "zh": "分母：统计时点前已纳入管理满{programme_year_days}天的患者；"
        "分子：其中近{programme_year_days}天内有不少于{programme_visits}个不同日期面对面随访者"
        "（国家基本公共卫生服务规范第三版“每年至少4次面对面随访”，按滚动一年计）",
        "en": "Patients managed for {programme_year_days} days or more; of them, those with follow-up visits"
        " on at least {programme_visits} days of "
        "the last {programme_year_days}",
    },
    "report.def.bp_control": {
        "zh": "分母：纳入管理满{programme_days}天的高血压患者；"
        "分子：其中近{programme_days}天内最近一次血压低于{programme_sbp}/{programme_dbp} mmHg者"
        "（{programme_days}天内无血压记录按未控制计，同HEARTS/Simple）",
        "en": "Hypertensive patients managed {programme_days} days or more; of them, those whose latest BP of"
        " the last {programme_days} days "
        "is below {programme_sbp}/{programme_dbp} mmHg (none counts as not controlled)",
    },
    "report.def.glucose_control": {
        "zh": "分母：纳入管理满{programme_days}天的2型糖尿病患者；"
        "分子：其中近{programme_days}天内最近一次空腹血糖低于{programme_fasting} mmol/L者",
        "en": "Diabetic patients managed {programme_days} days or more; of them, those whose latest fasting"
        " glucose of the last "
        "{programme_days} days is below {programme_fasting} mmol/L",
    },
    "report.def.visits": {
        "zh": "本月内（按北京时间日期）记录的面对面随访次数",
        "en": "Follow-up visits recorded in the month (China dates)",
    },
    "report.def.missed_visit_3m": {
        "zh": "分母：纳入管理满{programme_days}天的患者；分子：其中近{programme_days}天既无设备读数也无随访记录者",
        "en": "Patients managed {programme_days} days or more; of them, those with neither a reading nor a"
        " visit in {programme_days} days",
    },
    "report.def.lost_12m": {
        "zh": "分母：纳入管理满{programme_year_days}天的患者；"
        "分子：其中近{programme_year_days}天既无设备读数也无随访记录者",
        "en": "Patients managed {programme_year_days} days or more; of them, those with neither a reading nor"
        " a visit in {programme_year_days} days",
    },
    "report.download.title": {"zh": "月报下载", "en": "Monthly report"},
    "report.download.month": {"zh": "月份", "en": "Month"},
    "report.download.button": {"zh": "下载月报（Excel）", "en": "Download (Excel)"},
    "report.download.file": {"zh": "慢病管理月报-{month}.xlsx", "en": "monthly-report-{month}.xlsx"},
    # the first sign-in of an imported account (dashboard/auth/passwords/web.py)
    "password.change.title": {"zh": "首次登录：请设置您自己的密码", "en": "First sign-in: set your own password"},
    "password.change.note": {
        "zh": "初始密码只能用于首次登录。新密码至少{length}位，包含大写字母、小写字母、数字、符号中的三类。",
        "en": "The first password works only once. The new one: at least {length} characters of three kinds.",
    },
    "password.change.current": {"zh": "初始密码", "en": "First password"},
    "password.change.new": {"zh": "新密码", "en": "New password"},
    "password.change.again": {"zh": "再次输入新密码", "en": "New password again"},
    "password.change.submit": {"zh": "保存新密码", "en": "Save the new password"},
    "password.change.required": {"zh": "请先修改初始密码", "en": "Change your first password first"},
    "password.change.wrong_current": {"zh": "初始密码不正确", "en": "The first password is wrong"},
    "password.change.mismatch": {"zh": "两次输入的新密码不一致", "en": "The new passwords differ"},
    "password.change.same": {"zh": "新密码不能与初始密码相同", "en": "The new password must differ from the first"},
}
