"""Messages of the township's and the county's screens (issue 15): indicator definitions and the reasons a rate
is blank, the alert handling flow, the wall screen and the language switch."""

from __future__ import annotations

COUNTY: dict[str, dict[str, str]] = {
    # Why an indicator has no rate: nobody is in its denominator yet (dashboard.indicators.logic).
    "indicator.none.bp_control": {
        "zh": "暂无数据：无纳入管理满 {programme_days} 天的高血压患者（纳入管理不足 {programme_days} 天）",
        "en": "No rate: no hypertensive patient registered {programme_days} days or more",
    },
    "indicator.none.glucose_control": {
        "zh": "暂无数据：无纳入管理满 {programme_days} 天的糖尿病患者（纳入管理不足 {programme_days} 天）",
        "en": "No rate: no diabetic patient registered {programme_days} days or more",
    },
    "indicator.none.standard_management": {
        "zh": "暂无数据：无纳入管理满 1 年的患者（纳入管理不足 1 年）",
        "en": "No rate: no patient registered a year or more",
    },
    "indicator.none.missed_visit_3m": {
        "zh": "暂无数据：无纳入管理满 {programme_days} 天的患者（纳入管理不足 {programme_days} 天）",
        "en": "No rate: no patient registered {programme_days} days or more",
    },
    "indicator.none.lost_12m": {
        "zh": "暂无数据：无纳入管理满 1 年的患者（纳入管理不足 1 年）",
        "en": "No rate: no patient registered a year or more",
    },
    "indicator.none_short.recent": {"zh": "纳入不足{programme_days}天", "en": "< {programme_days} days"},
    "indicator.none_short.year": {"zh": "纳入不足1年", "en": "< 1 year"},
    "indicator.definition": {"zh": "定义", "en": "Definition"},
    "indicator.def.bp_control": {
        "zh": "分子：最近 {programme_days} 天内最后一次血压 < {programme_sbp}/{programme_dbp} mmHg 的高血压患者；"
        "分母：纳入管理满 {programme_days} 天的高血压患者；统计期：截至当前的最近 {programme_days}"
        " 天（{programme_days} 天内无血压记录计为未控制）。",
        "en": "Numerator: hypertensive patients whose latest BP in the last {programme_days} days is below"
        " {programme_sbp}/{programme_dbp} mmHg. Denominator: hypertensive patients registered {programme_days} days"
        " or more. Period: the {programme_days} days up to now (no BP in {programme_days} days counts as not"
        " controlled).",
    },
    "indicator.def.glucose_control": {
        "zh": "分子：最近 {programme_days} 天内最后一次空腹血糖 < {programme_fasting} mmol/L 的糖尿病患者；"
        "分母：纳入管理满 {programme_days} 天的糖尿病患者；统计期：截至当前的最近 {programme_days}"
        " 天（{programme_days} 天内无空腹血糖计为未控制）。",
        "en": "Numerator: diabetic patients whose latest fasting glucose in the last {programme_days} days is below"
        " {programme_fasting} mmol/L. Denominator: diabetic patients registered {programme_days} days or more."
        " Period: the {programme_days} days up to now (no fasting glucose in {programme_days} days counts as not"
        " controlled).",
    },
    "indicator.def.standard_management": {
        "zh": "分子：最近 {programme_year_days} 天内至少 {programme_visits} 个不同日期有面对面随访记录的患者；"
        "分母：纳入管理满 1 年的患者；统计期：截至当前的最近 {programme_year_days} 天（滚动年度）。",
        "en": "Numerator: patients with follow-up visits on at least {programme_visits} distinct days in the last"
        " {programme_year_days} days. Denominator: patients registered a year or more. Period: the"
        " {programme_year_days} days up to now (a rolling year).",
    },
    "indicator.def.missed_visit_3m": {
        "zh": "分子：最近 {programme_days} 天内既无测量读数也无随访记录的患者；分母：纳入管理满 {programme_days}"
        " 天的患者；统计期：最近 {programme_days} 天。",
        "en": "Numerator: patients with neither a reading nor a follow-up in the last {programme_days} days."
        " Denominator: patients registered {programme_days} days or more. Period: the last {programme_days} days.",
    },
    "indicator.def.lost_12m": {
        "zh": "分子：最近 {programme_year_days} 天内既无测量读数也无随访记录的患者；分母：纳入管理满 1 年的患者；"
        "统计期：最近 {programme_year_days} 天。",
        "en": "Numerator: patients with neither a reading nor a follow-up in the last {programme_year_days} days."
        " Denominator: patients registered a year or more. Period: the last {programme_year_days} days.",
    },
}

COUNTY |= {
    # The township's alert handling (dashboard.alerts.logic, dashboard/pages/township.py)
    "alerts.refused.closed": {"zh": "未执行：此预警已关闭", "en": "Not done: this alert is closed"},
    "alerts.refused.already_acked": {"zh": "此预警已确认，无需再次确认", "en": "Already acknowledged"},
    "alerts.refused.ack_first": {
        "zh": "未执行：请先点击“确认”接收此预警，再记录处置或关闭",
        "en": "Not done: acknowledge the alert first, then record an action or close it",
    },
    "alerts.refused.action": {"zh": "未执行：请选择处置方式", "en": "Not done: choose an action"},
    "alerts.refused.outcome": {
        "zh": "未执行：关闭预警需填写处置结果",
        "en": "Not done: closing an alert needs an outcome",
    },
    "alerts.refused.other": {
        "zh": "未执行：预警状态已变化，请刷新后重试",
        "en": "Not done: the alert changed; try again",
    },
    "alerts.confirm_close": {
        "zh": "确定关闭此预警？关闭后将移入“最近关闭”列表。",
        "en": "Close this alert? It moves to the recently closed list.",
    },
    "alerts.done.closed_moved": {"zh": "已关闭，已移入“最近关闭”", "en": "Closed; moved to recently closed"},
    "alerts.col.due": {"zh": "升级倒计时", "en": "Escalation"},
    "alerts.due.ack_minutes": {"zh": "{minutes} 分钟内未确认将升级至县级", "en": "Escalates in {minutes} min"},
    "alerts.due.escalating": {"zh": "即将升级至县级", "en": "Escalating now"},
    "alerts.due.escalated": {"zh": "已升级至县级", "en": "Escalated to the county"},
    "alerts.due.action_days": {"zh": "处置期限剩 {days} 天", "en": "{days} days left to act"},
    "alerts.due.overdue": {"zh": "处置已逾期", "en": "Action overdue"},
    "alerts.due.none": {"zh": "无升级规则", "en": "No escalation rule"},
    "alerts.recently_closed": {"zh": "最近关闭（7 天内）", "en": "Recently closed (7 days)"},
    "alerts.recently_closed.empty": {"zh": "7 天内没有关闭的预警", "en": "No alert closed in the last 7 days"},
    "alerts.col.closed_at": {"zh": "关闭时间", "en": "Closed"},
    "alerts.col.closed_by": {"zh": "关闭人", "en": "Closed by"},
    "alerts.col.outcome": {"zh": "处置结果", "en": "Outcome"},
}

COUNTY |= {
    # Assigning an alert to a named doctor (dashboard.alerts.service.assign, the township's work list, the console)
    "alerts.col.assignee": {"zh": "负责医生", "en": "Assigned to"},
    "alerts.assignee.none": {"zh": "未指派", "en": "Not assigned"},
    "alerts.assignee.label": {"zh": "负责医生：", "en": "Assigned to: "},
    "alerts.assign_hint": {"zh": "选择医生", "en": "Choose a doctor"},
    "alerts.button.assign": {"zh": "指派", "en": "Assign"},
    "alerts.done.assign": {"zh": "已指派给 {name}", "en": "Assigned to {name}"},
    "alerts.refused.assign_role": {
        "zh": "未执行：预警由乡镇卫生院或县慢病中心指派，家庭医生团队不能指派",
        "en": "Not done: the township or the county assigns alerts, not a family-doctor team",
    },
    "alerts.refused.assignee_missing": {"zh": "未执行：请先选择要指派的医生", "en": "Not done: choose a doctor first"},
    "alerts.refused.assignee_scope": {
        "zh": "未执行：只能指派给此预警所属乡镇卫生院或其家庭医生团队的在岗人员",
        "en": "Not done: an alert can only be assigned to an active account of its own township or its teams",
    },
}
