"""The words of the registry import, the FHIR export and the monthly report: refusal reasons a clerk reads in the
import report, the template's README, the administration screen and the report's sheets. Part of `cdm.i18n`."""

from __future__ import annotations

REGISTRY: dict[str, dict[str, str]] = {
    # the import report's columns
    "registry.report.file": {"zh": "文件", "en": "File"},
    "registry.report.row": {"zh": "行号", "en": "Row"},
    "registry.report.column": {"zh": "列", "en": "Column"},
    "registry.report.reason": {"zh": "原因", "en": "Reason"},
    # the credentials file (mode 0600, written once)
    "registry.secret.kind": {"zh": "类型", "en": "Kind"},
    "registry.secret.name": {"zh": "设备编号或用户名", "en": "Meter id or username"},
    "registry.secret.password": {"zh": "初始密码", "en": "Initial password"},
    "registry.secret.note": {"zh": "说明", "en": "Note"},
    "registry.secret.meter": {"zh": "设备", "en": "Meter"},
    "registry.secret.account": {"zh": "账号", "en": "Account"},
    "registry.secret.meter_note": {
        "zh": "设备的MQTT用户名与密码，仅此一次提供，请配置到设备后妥善销毁本文件",
        "en": "The meter's MQTT username and password, given only now: configure the meter, then destroy this file",
    },
    "registry.secret.account_note": {
        "zh": "初始密码，首次登录时必须修改",
        "en": "Initial password; must be changed at the first sign-in",
    },
    "registry.secret.totp_note": {
        "zh": "初始密码，首次登录时必须修改；管理员另需用验证器扫描：{uri}",
        "en": "Initial password, to be changed at first sign-in; administrators also scan: {uri}",
    },
    # refusal reasons (registry.importing: cells, logic, rows, service)
    "registry.reason.missing": {"zh": "必填项为空", "en": "Required value is empty"},
    "registry.reason.missing_column": {"zh": "缺少必需的列", "en": "A required column is missing"},
    "registry.reason.excel_number": {
        "zh": "Excel已把此列当作数字保存（如1.30130E+17），后几位已丢失、无法恢复：请在Excel中将该列设置为“文本”格式，"
        "重新填入后再导出",
        "en": "Excel stored this column as a number (e.g. 1.30130E+17) and its last digits are lost: format the "
        "column as text in Excel, re-enter it and export again",
    },
    "registry.reason.bad_code": {
        "zh": "编码只能包含字母、数字、“-”“_”“.”，最长40位",
        "en": "A code holds letters, digits, '-', '_' or '.', at most 40",
    },
    "registry.reason.too_long": {"zh": "超过{max}个字", "en": "Longer than {max} characters"},
    "registry.reason.bad_sex": {
        "zh": "性别应为 男/女 或代码 1/2，而不是“{value}”",
        "en": "Sex must be 男/女 or 1/2, not '{value}'",
    },
    "registry.reason.bad_date": {
        "zh": "日期“{value}”无法识别：请用 YYYY-MM-DD、YYYY/M/D、YYYYMMDD 或 Excel 日期格式",
        "en": "Date '{value}' not understood: use YYYY-MM-DD, YYYY/M/D, YYYYMMDD or an Excel date",
    },
    "registry.reason.date_future": {"zh": "日期 {value} 晚于今天", "en": "Date {value} is in the future"},
    "registry.reason.date_too_early": {"zh": "日期 {value} 早于1900年", "en": "Date {value} is before 1900"},
    "registry.reason.managed_before_birth": {
        "zh": "纳入管理日期早于出生日期",
        "en": "Management start is before the birth date",
    },
    "registry.reason.bad_disease": {
        "zh": "管理病种“{value}”无法识别：应为 高血压、2型糖尿病（或糖尿病），两种都有时用“、”分隔",
        "en": "Disease '{value}' not understood: use 高血压 and/or 2型糖尿病 (or 糖尿病), separated by 、",
    },
    "registry.reason.bad_phone": {
        "zh": "电话号码应为11位手机号或带区号的固定电话",
        "en": "A phone is an 11-digit mobile or a landline with its area code",
    },
    "registry.reason.bad_yes_no": {"zh": "应填 是 或 否", "en": "Use 是 (yes) or 否 (no)"},
    "registry.reason.bad_residence": {"zh": "应填 城市 或 农村", "en": "Use 城市 (urban) or 农村 (rural)"},
    "registry.reason.bad_number": {"zh": "应为数字", "en": "Must be a number"},
    "registry.reason.out_of_range": {
        "zh": "数值 {value} 超出合理范围 {low}–{high} {unit}（单位是否有误？）",
        "en": "{value} is outside {low}–{high} {unit} (wrong unit?)",
    },
    "registry.reason.id_shape": {
        "zh": "身份证号应为18位：17位数字加最后一位数字或X",
        "en": "An ID-card number has 18 characters: 17 digits, then a digit or X",
    },
    "registry.reason.id_old": {
        "zh": "这是15位旧身份证号，请填写18位身份证号",
        "en": "This is an old 15-digit ID number: enter the 18-character one",
    },
    "registry.reason.id_birth_invalid": {
        "zh": "身份证号第7–14位不是有效的出生日期",
        "en": "Characters 7–14 of the ID-card number are not a valid birth date",
    },
    "registry.reason.id_check": {
        "zh": "身份证号校验位不符，可能有录入错误，请核对",
        "en": "The ID-card number's check character does not match: probably a typing error",
    },
    "registry.reason.id_sex_mismatch": {
        "zh": "身份证号显示的性别与“性别”列不符",
        "en": "The ID-card number's sex disagrees with the 性别 column",
    },
    "registry.reason.id_birth_mismatch": {
        "zh": "身份证号中的出生日期与“出生日期”列不符",
        "en": "The ID-card number's birth date disagrees with the 出生日期 column",
    },
    "registry.reason.id_other_on_record": {
        "zh": "该档案在系统中已登记了另一个身份证号，请核对",
        "en": "This record already has another ID-card number in the system",
    },
    "registry.reason.bad_encoding": {
        "zh": "此行含有无法识别的字符：请用UTF-8或GB18030编码另存为CSV后重试",
        "en": "This row has characters that are not text: save the CSV as UTF-8 or GB18030 and try again",
    },
    "registry.reason.duplicate_in_file": {
        "zh": "与第{row}行的{column}重复",
        "en": "Same {column} as row {row}",
    },
    "registry.reason.duplicate_in_store": {
        "zh": "{column}已登记在档案 {record} 上",
        "en": "{column} is already registered to record {record}",
    },
    "registry.reason.unknown_township": {
        "zh": "乡镇编码 {code} 未登记（本次文件和系统中都没有）",
        "en": "Township {code} is in neither these files nor the system",
    },
    "registry.reason.unknown_village": {
        "zh": "村卫生室编码 {code} 未登记（本次文件和系统中都没有）",
        "en": "Village clinic {code} is in neither these files nor the system",
    },
    "registry.reason.unknown_team": {
        "zh": "签约团队编码 {code} 未登记（本次文件和系统中都没有）",
        "en": "Team {code} is in neither these files nor the system",
    },
    "registry.reason.team_other_township": {
        "zh": "签约团队 {team} 不属于村卫生室 {village} 所在的乡镇",
        "en": "Team {team} is not of the township of village clinic {village}",
    },
    "registry.reason.code_taken": {
        "zh": "编码 {code} 已被其他{level}使用",
        "en": "Code {code} is already used by another {level}",
    },
    "registry.reason.level.county": {"zh": "县", "en": "county"},
    "registry.reason.level.township": {"zh": "乡镇", "en": "township"},
    "registry.reason.level.village": {"zh": "村卫生室", "en": "village clinic"},
    "registry.reason.level.other_county": {"zh": "县的乡镇", "en": "county's township"},
    "registry.reason.bad_meter_kind": {"zh": "设备类型应为 血压计 或 血糖仪", "en": "Meter type: 血压计 or 血糖仪"},
    "registry.reason.bad_serial": {
        "zh": "序列号只能包含字母、数字、“-”“_”，最长40位",
        "en": "A serial holds letters, digits, '-' or '_', at most 40",
    },
    "registry.reason.bad_imei": {
        "zh": "IMEI应为15位数字且校验位正确（见设备标签）",
        "en": "An IMEI is 15 digits with a valid check digit (on the meter's label)",
    },
    "registry.reason.imei_taken": {"zh": "IMEI已登记在设备 {uid} 上", "en": "IMEI already registered to meter {uid}"},
    "registry.reason.meter_changed": {
        "zh": "设备 {uid} 已登记为另一IMEI或类型：更换设备请用新序列号",
        "en": "Meter {uid} is registered with another IMEI or type: register a replacement under a new serial",
    },
    "registry.reason.meter_revoked": {
        "zh": "设备 {uid} 已停用：更换设备请用新序列号",
        "en": "Meter {uid} was revoked: register the replacement under a new serial",
    },
    "registry.reason.bad_role": {"zh": "角色应为 县级、乡镇、团队 或 管理员", "en": "Role: 县级, 乡镇, 团队 or 管理员"},
    "registry.reason.bad_username": {
        "zh": "用户名为3–32位小写字母、数字或“.”“_”“-”，以字母或数字开头",
        "en": "A username is 3–32 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
    },
    "registry.reason.scope_missing": {
        "zh": "乡镇账号须填乡镇编码，团队账号须填团队编码",
        "en": "A township account needs its township code, a team account its team code",
    },
    "registry.reason.account_role_changed": {
        "zh": "账号已存在且角色或所属不同：请在系统中修改，不能通过导入更改",
        "en": "The account exists with another role or scope: change it in the system, not by import",
    },
    "registry.reason.duplicate_file": {
        "zh": "同一类文件有多个（{files}），均未导入：请只保留一个",
        "en": "Several files of one kind ({files}): none imported; keep one",
    },
    "registry.reason.not_in_file": {
        "zh": "已登记的患者（档案号 {record}）不在本次文件中：未删除",
        "en": "Registered patient (record {record}) is not in this file: not removed",
    },
    # the JSON line and the template README
    "registry.template.readme_title": {"zh": "县级慢病登记导入模板", "en": "County registry import templates"},
    "registry.template.intro": {
        "zh": "每类文件可以是 .csv（UTF-8，带或不带BOM，或中文Excel默认的GB18030编码）或 .xlsx。"
        "表头为第1行，列的顺序不限；"
        "空白行忽略。每一行要么全部导入，要么整行不导入，导入报告（CSV：文件、行号、列、原因）逐条列出每个问题。"
        "同样的文件再导入一次不会改变任何数据；之后导出的新文件只更新有变化的内容并保留修改历史；导入从不删除数据。"
        "身份证号只保存加密摘要和脱敏形式。新设备的密码和新账号的初始密码只写入报告旁一个仅本人可读的文件一次。",
        "en": "Each file may be .csv (UTF-8 with or without BOM, or GB18030 as a Chinese Excel saves it) or .xlsx. "
        "The header is row 1, columns in any order; blank rows are ignored. A row is imported whole or not at all; "
        "the report (CSV: file, row, column, reason) names every problem. The same files again change nothing; a "
        "later export updates what changed and keeps the history; an import never deletes. ID-card numbers are kept "
        "only as a keyed hash and a masked form. New meters' and accounts' passwords are written once to a file "
        "beside the report that only its owner can read.",
    },
    "registry.template.kind.townships": {"zh": "乡镇", "en": "Townships"},
    "registry.template.kind.villages": {"zh": "村卫生室", "en": "Village clinics"},
    "registry.template.kind.teams": {"zh": "家庭医生签约团队", "en": "Family-doctor teams"},
    "registry.template.kind.patients": {
        "zh": "高血压、2型糖尿病患者",
        "en": "Hypertension and type 2 diabetes patients",
    },
    "registry.template.kind.meters": {"zh": "血压计、血糖仪", "en": "BP meters and glucose meters"},
    "registry.template.kind.accounts": {"zh": "系统账号", "en": "Screen accounts"},
    "registry.template.col.column": {"zh": "列", "en": "Column"},
    "registry.template.col.required": {"zh": "必填", "en": "Required"},
    "registry.template.col.format": {"zh": "格式", "en": "Format"},
    "registry.template.required": {"zh": "是", "en": "yes"},
    "registry.template.optional": {"zh": "否", "en": "no"},
    "registry.template.reasons": {"zh": "导入报告中的原因", "en": "Reasons in the import report"},
    "registry.format.townships.code": {"zh": "乡镇编码，字母数字，全县唯一", "en": "Township code, unique"},
    "registry.format.townships.name": {"zh": "乡镇名称", "en": "Township name"},
    "registry.format.villages.code": {"zh": "村卫生室编码，全县唯一", "en": "Village clinic code, unique"},
    "registry.format.villages.name": {"zh": "村卫生室名称", "en": "Village clinic name"},
    "registry.format.villages.township": {"zh": "所在乡镇的编码", "en": "Code of its township"},
    "registry.format.teams.code": {"zh": "团队编码，唯一", "en": "Team code, unique"},
    "registry.format.teams.name": {"zh": "团队名称", "en": "Team name"},
    "registry.format.teams.township": {"zh": "团队所在乡镇的编码", "en": "Code of its township"},
    "registry.format.patients.record_no": {
        "zh": "健康档案号，唯一，是识别患者的主键；请设置为文本格式",
        "en": "Health-record number, unique, the patient's key; format as text",
    },
    "registry.format.patients.name": {"zh": "姓名", "en": "Name"},
    "registry.format.patients.sex": {"zh": "男 / 女，或 1 / 2（GB/T 2261.1）", "en": "男 / 女, or 1 / 2"},
    "registry.format.patients.birth_date": {
        "zh": "YYYY-MM-DD、YYYY/M/D、YYYYMMDD 或 Excel 日期",
        "en": "YYYY-MM-DD, YYYY/M/D, YYYYMMDD or an Excel date",
    },
    "registry.format.patients.id_number": {
        "zh": "18位身份证号（末位X大小写均可），须与性别、出生日期一致；请设置为文本格式",
        "en": "18-character ID-card number agreeing with sex and birth date; format as text",
    },
    "registry.format.patients.phone": {
        "zh": "手机号或带区号的固定电话，+86、空格、横线可有可无",
        "en": "Mobile or landline",
    },
    "registry.format.patients.address": {"zh": "现住址", "en": "Current address"},
    "registry.format.patients.village": {"zh": "管理该患者的村卫生室编码", "en": "Village clinic code"},
    "registry.format.patients.team": {
        "zh": "签约团队编码，须属于村卫生室所在乡镇",
        "en": "Team code, of the village's township",
    },
    "registry.format.patients.diseases": {
        "zh": "高血压、2型糖尿病（或 糖尿病），两种都有时用 、，,;； 分隔",
        "en": "高血压 and/or 2型糖尿病 (or 糖尿病), separated by 、，,;；",
    },
    "registry.format.patients.managed_since": {
        "zh": "纳入管理日期，不能晚于今天",
        "en": "Management start, not in the future",
    },
    "registry.format.patients.card": {
        "zh": "居民健康卡号（设备上报用），唯一",
        "en": "Health card the meters send, unique",
    },
    "registry.format.patients.on_bp_treatment": {"zh": "是 / 否", "en": "是 / 否"},
    "registry.format.patients.total_cholesterol": {"zh": "总胆固醇，mmol/L", "en": "Total cholesterol, mmol/L"},
    "registry.format.patients.hdl": {"zh": "高密度脂蛋白胆固醇，mmol/L", "en": "HDL cholesterol, mmol/L"},
    "registry.format.patients.waist": {"zh": "腰围，厘米", "en": "Waist, cm"},
    "registry.format.patients.height": {"zh": "身高，厘米", "en": "Height, cm"},
    "registry.format.patients.weight": {"zh": "体重，千克", "en": "Weight, kg"},
    "registry.format.patients.smoker": {"zh": "是 / 否（目前吸烟）", "en": "是 / 否 (smokes now)"},
    "registry.format.patients.family_history": {"zh": "是 / 否（心脑血管病家族史）", "en": "是 / 否"},
    "registry.format.patients.residence": {"zh": "城市 / 农村", "en": "城市 (urban) / 农村 (rural)"},
    "registry.format.meters.kind": {"zh": "血压计 / 血糖仪", "en": "血压计 (BP) / 血糖仪 (glucose)"},
    "registry.format.meters.serial": {"zh": "设备标签上的序列号", "en": "Serial on the label"},
    "registry.format.meters.imei": {
        "zh": "15位IMEI（含校验位），请设置为文本格式",
        "en": "15-digit IMEI; format as text",
    },
    "registry.format.meters.clinic": {"zh": "设备所在村卫生室编码", "en": "Village clinic where it stands"},
    "registry.format.accounts.username": {"zh": "登录用户名，3–32位小写字母数字", "en": "Username, 3–32 lower-case"},
    "registry.format.accounts.name": {"zh": "姓名", "en": "Name"},
    "registry.format.accounts.role": {"zh": "县级 / 乡镇 / 团队 / 管理员", "en": "县级 / 乡镇 / 团队 / 管理员"},
    "registry.format.accounts.scope": {
        "zh": "乡镇账号填乡镇编码，团队账号填团队编码，其他留空",
        "en": "Township code for 乡镇, team code for 团队, else empty",
    },
    "registry.format.accounts.phone": {"zh": "手机号", "en": "Mobile"},
    # the administration screen's import (dashboard/pages/registry.py)
    "nav.registry": {"zh": "登记导入", "en": "Registry import"},
    "registry.screen.title": {"zh": "导入全县登记数据", "en": "Import the county's registry"},
    "registry.screen.intro": {
        "zh": "上传 townships、villages、teams、patients、meters、accounts 文件（.csv 或 .xlsx，可多选）。"
        "先试导入检查，"
        "不改动任何数据；确认无误后再点“确认导入”。",
        "en": "Upload the townships, villages, teams, patients, meters and accounts files (.csv or .xlsx). They are "
        "first checked without changing anything; then confirm the import.",
    },
    "registry.screen.drop": {"zh": "拖入文件，或点击选择文件", "en": "Drop files here, or click to choose"},
    "registry.screen.summary": {"zh": "试导入结果", "en": "Dry run"},
    "registry.screen.problems": {"zh": "问题明细（导入报告）", "en": "Problems (the report)"},
    "registry.screen.confirm": {"zh": "确认导入", "en": "Confirm the import"},
    "registry.screen.report": {"zh": "下载导入报告", "en": "Download the report"},
    "registry.screen.secrets": {"zh": "下载初始密码（仅一次）", "en": "Download the credentials (once)"},
    "registry.screen.checked": {
        "zh": "试导入完成，未改动任何数据；报告共 {lines} 条。核对后点“确认导入”。",
        "en": "Checked without changing anything; {lines} report lines. Confirm to import.",
    },
    "registry.screen.done": {
        "zh": "导入完成；{attributed} 条待匹配读数已归属到新患者。新设备和新账号的初始密码请立即下载，只能下载一次。",
        "en": "Imported; {attributed} waiting readings attributed. Download the new credentials now: only once.",
    },
    "registry.screen.forbidden": {"zh": "无权查看：登记导入仅供管理员使用", "en": "Not permitted: administrators only"},
    "registry.screen.no_files": {"zh": "请选择要导入的文件", "en": "Choose the files to import"},
    "registry.screen.bad_file": {
        "zh": "文件“{name}”不是可导入的文件：文件名应为 {kinds} 之一，扩展名 .csv 或 .xlsx",
        "en": "'{name}' cannot be imported: name it one of {kinds}, as .csv or .xlsx",
    },
    "registry.screen.too_big": {"zh": "文件“{name}”过大", "en": "'{name}' is too large"},
    "registry.screen.expired": {"zh": "上传已失效，请重新上传文件", "en": "The upload has expired: upload again"},
    "registry.screen.col.file": {"zh": "文件", "en": "File"},
    "registry.screen.col.rows": {"zh": "行数", "en": "Rows"},
    "registry.screen.col.added": {"zh": "新增", "en": "Added"},
    "registry.screen.col.updated": {"zh": "更新", "en": "Updated"},
    "registry.screen.col.unchanged": {"zh": "未变", "en": "Unchanged"},
    "registry.screen.col.refused": {"zh": "拒绝", "en": "Refused"},
    "registry.screen.col.row": {"zh": "行号", "en": "Row"},
    "registry.screen.col.column": {"zh": "列", "en": "Column"},
    "registry.screen.col.reason": {"zh": "原因", "en": "Reason"},
}
