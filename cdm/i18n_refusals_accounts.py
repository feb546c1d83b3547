"""The refusals of the device registry (`cdm devices …`, the administration screen's meters) and of the screens'
accounts (`cdm users …`, the administration screen's accounts): cdm.i18n.Refusal keys, merged into the catalogue."""

from __future__ import annotations

ACCOUNT_REFUSALS: dict[str, dict[str, str]] = {
    "devices.kind.bp": {"zh": "血压计", "en": "BP meter"},
    "devices.kind.glucose": {"zh": "血糖仪", "en": "glucose meter"},
    "devices.refused.no_clinic": {"zh": "没有编码为“{code}”的村卫生室", "en": "no village clinic with code '{code}'"},
    "devices.refused.imei_taken": {"zh": "该IMEI已登记给设备 {uid}", "en": "IMEI already registered to meter {uid}"},
    "devices.refused.not_provisioned": {
        "zh": "没有已配发且未吊销的设备“{uid}”",
        "en": "no provisioned, unrevoked meter '{uid}'",
    },
    "devices.refused.nothing_to_revoke": {
        "zh": "没有未吊销的设备或账号“{uid}”",
        "en": "no unrevoked meter or account '{uid}'",
    },
    "devices.refused.no_meter": {"zh": "没有设备“{uid}”", "en": "no meter '{uid}'"},
    "devices.refused.meter_role": {
        "zh": "设备不在这里开账号，请用 cdm devices provision 配发",
        "en": "meters are provisioned with `cdm devices provision`",
    },
    "devices.refused.meter_username": {
        "zh": "“{username}”是一台设备的用户名",
        "en": "'{username}' is a meter's username",
    },
    "devices.refused.account_exists": {"zh": "账号“{username}”已存在", "en": "account '{username}' exists"},
    "devices.refused.account_name": {
        "zh": "账号名须为1至64位字母、数字、“.”、“-”或“_”",
        "en": "an account name may hold 1-64 letters, digits, '.', '-' or '_'",
    },
    "devices.refused.serial": {
        "zh": "序列号须为1至40位字母、数字、“-”或“_”",
        "en": "the serial number may hold 1-40 letters, digits, '-' or '_'",
    },
    "devices.refused.imei": {
        "zh": "IMEI须为15位数字且校验位正确（见设备标签）",
        "en": "the IMEI must be 15 digits with a valid check digit (printed on the meter's label)",
    },
    "devices.refused.uid": {
        "zh": "设备编号须为1至64位字母、数字、“-”或“_”",
        "en": "the meter id may hold 1-64 letters, digits, '-' or '_'",
    },
    "devices.refused.revoked": {
        "zh": "设备 {uid} 已吊销；替换的设备请用新的序列号登记",
        "en": "meter {uid} was revoked; register the replacement under a new serial",
    },
    "devices.refused.provisioned": {
        "zh": "设备 {uid} 已配发；如需新的账号密码，请用 cdm devices rotate",
        "en": "meter {uid} is already provisioned; use `cdm devices rotate` for new credentials",
    },
    "devices.refused.kind": {"zh": "设备 {uid} 登记的是{kind}", "en": "meter {uid} is registered as a {kind}"},
    "accounts.refused.taken": {"zh": "用户名“{username}”已被使用", "en": "username '{username}' is taken"},
    "accounts.refused.username": {
        "zh": "用户名须为3至32位小写字母、数字、“.”、“_”或“-”",
        "en": "username: 3-32 lower-case letters, digits, '.', '_' or '-'",
    },
    "accounts.refused.team_needed": {
        "zh": "团队账号须用 --team 写明家庭医生团队的编码",
        "en": "a team account needs --team (the care team's code)",
    },
    "accounts.refused.no_team": {"zh": "没有编码为“{code}”的家庭医生团队", "en": "there is no care team '{code}'"},
    "accounts.refused.township_needed": {
        "zh": "乡镇账号须用 --township 写明乡镇的地区编码",
        "en": "a township account needs --township (the township's region code)",
    },
    "accounts.refused.no_township": {"zh": "没有编码为“{code}”的乡镇", "en": "there is no township '{code}'"},
    "accounts.refused.no_county": {"zh": "没有编码为“{code}”的县", "en": "there is no county '{code}'"},
    "accounts.refused.county_needed": {"zh": "请用 --county 写明县的地区编码", "en": "name the county (--county)"},
    "accounts.refused.no_account": {"zh": "没有账号“{username}”", "en": "there is no account '{username}'"},
}
