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
    "password.guessable": {
        "zh": "密码太容易被猜到：它在常见或已泄露的密码表中，或只是单词、键盘序列（如Qwerty）加数字的变体；"
        "请换一个更长、更少见的密码，例如几个不相关的词组合",
        "en": "password is easy to guess: it is in the lists of common or breached passwords, or a word or keyboard"
        " pattern (such as Qwerty) with digits; use a longer, less common one, e.g. a few unrelated words",
    },
    "password.refused": {"zh": "密码不可用：{reasons}", "en": "password refused: {reasons}"},
    "login.error.throttled": {
        "zh": "登录失败次数过多，请 {seconds} 秒后再试",
        "en": "Too many failed sign-ins from here; try again in {seconds} s",
    },
    "nav.logout_everywhere": {"zh": "退出所有设备", "en": "Sign out everywhere"},
}
